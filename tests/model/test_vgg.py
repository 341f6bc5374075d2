"""VGG19 features: torchvision-compatible keys, file lookup, clear errors, frozen forward."""

import pickle
from pathlib import Path

import pytest
import safetensors.torch
import torch

from clvae.model.vgg import VGG19_WEIGHTS, BadWeightsError, MissingWeightsError, VGG19Features, load_vgg19

# torchvision's vgg19().features convolutions, written out independently of clvae:
# index -> (out_channels, in_channels).
TORCHVISION_CONVS = {0: (64, 3), 2: (64, 64), 5: (128, 64), 7: (128, 128), 10: (256, 128), 12: (256, 256),
                     14: (256, 256), 16: (256, 256), 19: (512, 256), 21: (512, 512), 23: (512, 512),
                     25: (512, 512), 28: (512, 512), 30: (512, 512), 32: (512, 512), 34: (512, 512)}
PATTERN_LAYER = 21


def _torchvision_like_state() -> dict[str, torch.Tensor]:
    """torchvision's key names and feature shapes with random values. The classifier keys are
    there (the loader must skip them) but small: their real 120M values would only slow the test."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    for index, (out_ch, in_ch) in TORCHVISION_CONVS.items():
        state[f"features.{index}.weight"] = torch.randn(out_ch, in_ch, 3, 3, generator=gen) * 0.05
        state[f"features.{index}.bias"] = torch.randn(out_ch, generator=gen) * 0.01
    for index in (0, 3, 6):
        state[f"classifier.{index}.weight"] = torch.randn(4, 4, generator=gen)
        state[f"classifier.{index}.bias"] = torch.randn(4, generator=gen)
    pattern = torch.arange(512 * 512 * 9, dtype=torch.float32).reshape(512, 512, 3, 3) / 1e6
    state[f"features.{PATTERN_LAYER}.weight"] = pattern
    return state


@pytest.fixture(scope="module")
def weight_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vgg")
    state = _torchvision_like_state()
    pth, st = folder / "vgg19-dcbb9e9d.pth", folder / "vgg19.safetensors"
    torch.save(state, pth)
    safetensors.torch.save_file(state, str(st))
    return state, pth, st


@pytest.fixture
def no_default_files(tmp_path, monkeypatch):
    """Point both default locations into an empty tmp folder."""
    monkeypatch.setenv("CLVAE_VGG19", str(tmp_path / "env" / "vgg19.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path


def test_state_dict_keys_match_torchvision():
    keys = set(VGG19Features().state_dict())
    expected = {f"features.{i}.{p}" for i in TORCHVISION_CONVS for p in ("weight", "bias")}
    assert keys == expected


@pytest.mark.parametrize("kind", ["pth", "safetensors", "safetensors named .pth"])
def test_weights_land_at_their_layers(weight_files, kind, tmp_path):
    state, pth, st = weight_files
    if kind == "safetensors named .pth":
        st = (tmp_path / "vgg19.pth")
        st.symlink_to(weight_files[2])
    model = load_vgg19(pth if kind == "pth" else st)
    assert torch.equal(model.features[PATTERN_LAYER].weight, state[f"features.{PATTERN_LAYER}.weight"])
    assert not torch.equal(model.features[PATTERN_LAYER - 2].weight.flatten()[:10],
                           state[f"features.{PATTERN_LAYER}.weight"].flatten()[:10])
    for index in TORCHVISION_CONVS:
        assert torch.equal(model.features[index].bias, state[f"features.{index}.bias"])


def test_output_shapes_at_64(weight_files):
    model = load_vgg19(weight_files[1])
    shapes = [tuple(a.shape) for a in model(torch.rand(2, 3, 64, 64) * 2 - 1)]
    assert shapes == [(2, 64, 64, 64), (2, 128, 32, 32), (2, 256, 16, 16), (2, 512, 8, 8), (2, 512, 4, 4)]


def test_images_are_normalised_to_imagenet_statistics():
    model = VGG19Features()
    with torch.no_grad():
        for layer in model.features:
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.zero_()
                layer.bias.zero_()
        for c in range(3):  # relu1_1 channel c = relu(normalised input channel c)
            model.features[0].weight[c, c, 1, 1] = 1.0
    white = torch.ones(1, 3, 16, 16)
    relu1_1 = model(white)[0]
    expected = (1 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(relu1_1[0, :3, 8, 8], expected)


def test_frozen_but_passes_gradients_to_the_input():
    model = VGG19Features()
    model.train()
    assert not model.training and not model.features.training
    assert not any(p.requires_grad for p in model.parameters())
    images = torch.zeros(1, 3, 32, 32, requires_grad=True)
    sum(a.sum() for a in model(images)).backward()
    assert images.grad is not None and images.grad.abs().sum() > 0


def test_lookup_order_env_then_hub_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CLVAE_VGG19", "/somewhere/vgg.safetensors")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert VGG19_WEIGHTS.candidates() == [Path("/somewhere/vgg.safetensors"),
                                      tmp_path / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"]


def test_loads_from_env_var_and_from_hub_cache(weight_files, no_default_files, monkeypatch):
    state, pth, st = weight_files
    monkeypatch.setenv("CLVAE_VGG19", str(st))
    assert torch.equal(load_vgg19().features[0].weight, state["features.0.weight"])

    monkeypatch.delenv("CLVAE_VGG19")
    cached = no_default_files / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    cached.parent.mkdir(parents=True)
    cached.symlink_to(pth)
    assert torch.equal(load_vgg19().features[34].weight, state["features.34.weight"])


def test_missing_weights_error_names_every_path(no_default_files):
    with pytest.raises(MissingWeightsError) as info:
        load_vgg19()
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(no_default_files / "env" / "vgg19.pth") in message
    assert str(no_default_files / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth") in message
    assert "CLVAE_VGG19" in message and "VGG loss off" in message


def test_missing_explicit_path_is_named(tmp_path):
    with pytest.raises(MissingWeightsError, match="nope.pth"):
        load_vgg19(tmp_path / "nope.pth")


def test_vgg16_sized_file_lists_the_mismatches(weight_files, tmp_path):
    state = {k: v for k, v in weight_files[0].items() if not k.startswith(("features.30", "features.32"))}
    state["features.34.weight"] = torch.zeros(256, 512, 3, 3)
    path = tmp_path / "vgg16ish.safetensors"
    safetensors.torch.save_file(state, str(path))
    with pytest.raises(BadWeightsError) as info:
        load_vgg19(path)
    message = str(info.value)
    assert str(path) in message
    assert "missing features.30.weight" in message
    assert "features.34.weight: shape (256, 512, 3, 3), expected shape (512, 512, 3, 3)" in message


def test_unexpected_keys_are_reported(weight_files, tmp_path):
    state = dict(weight_files[0], **{"features.1.running_mean": torch.zeros(64)})
    path = tmp_path / "bn.pth"
    torch.save(state, path)
    with pytest.raises(BadWeightsError, match="unexpected key features.1.running_mean"):
        load_vgg19(path)


def _leave_mark(path):
    Path(path).write_text("code ran")


class Payload:
    """Unpickling this runs ``_leave_mark``: what a malicious weights file would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _leave_mark, (self.marker,)


def test_pickle_with_arbitrary_objects_is_refused(weight_files, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save(dict(weight_files[0], extra=Payload(str(marker))), path)
    with pytest.raises(BadWeightsError, match="evil.pth") as info:
        load_vgg19(path)
    assert "could run code" in str(info.value)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["garbage.pth", "garbage.safetensors"])
def test_garbage_file_is_refused_clearly(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"not weights at all" * 10)
    with pytest.raises(BadWeightsError, match=name):
        load_vgg19(path)
