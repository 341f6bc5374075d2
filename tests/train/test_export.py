"""model.safetensors: the Synthesizer rebuilt from the file alone; clear errors otherwise."""

from __future__ import annotations

import pytest
import safetensors.torch
import torch

from clvae.checkpoint import save_checkpoint
from clvae.model import Synthesizer
from clvae.model_io import ModelFileError, load_synthesizer, save_synthesizer
from tests.conftest import blocky_labels, tiny_config


def test_round_trip_rebuilds_the_same_model(tmp_path):
    model = Synthesizer(tiny_config("clvae", classes=3)).eval()
    save_synthesizer(tmp_path / "model.safetensors", model)
    loaded = load_synthesizer(tmp_path / "model.safetensors")
    assert loaded.cfg == model.cfg and not loaded.training
    label = blocky_labels(1, 64, 64, 3)
    codes = model.prior(label, torch.Generator().manual_seed(0))
    torch.testing.assert_close(loaded(label, codes), model(label, codes))


def test_the_file_holds_weights_and_config_only(tmp_path):
    model = Synthesizer(tiny_config("gaugan", classes=3))
    save_synthesizer(tmp_path / "model.safetensors", model)
    with safetensors.safe_open(str(tmp_path / "model.safetensors"), "pt") as f:
        assert set(f.keys()) == set(model.state_dict())
        assert all(f.get_tensor(k).dtype == torch.float32 for k in f.keys() if f.get_tensor(k).is_floating_point())


@pytest.mark.parametrize("write, message", [
    (lambda p: p.write_bytes(b"not a model"), "not a readable safetensors"),
    (lambda p: safetensors.torch.save_file({"w": torch.zeros(1)}, str(p)), "not a clvae checkpoint"),
    (lambda p: save_checkpoint(p, {}, {"format": "clvae-train", "train_config": {}}), "training checkpoint"),
    (lambda p: None, "does not exist"),
])
def test_other_files_are_clear_errors(tmp_path, write, message):
    path = tmp_path / "file.safetensors"
    write(path)
    with pytest.raises(ModelFileError, match=message):
        load_synthesizer(path)


def test_weights_that_do_not_fit_their_config_are_a_clear_error(tmp_path):
    model = Synthesizer(tiny_config("clvae", classes=3))
    tensors = {k: v for k, v in model.state_dict().items() if not k.startswith("encoder.")}
    save_checkpoint(tmp_path / "m.safetensors", tensors,
                    {"format": "clvae-model", "version": 1, "model_config": model.cfg.to_dict()})
    with pytest.raises(ModelFileError, match="do not fit the model config"):
        load_synthesizer(tmp_path / "m.safetensors")
