import numpy as np
import pytest
import torch

from clvae import edit as api
from clvae.config import ClassInfo
from tests.conftest import tiny_classes
from tests.edit.helpers import make_model, scene


def test_a_preset_from_one_image_gives_another_masks_class_the_same_codes(model, tmp_path):
    source = api.generate(model, scene(seed=1), seed=3)[0]
    preset = api.export_preset(model, source.codes, "class2", "mossy")
    api.save_preset(preset, tmp_path / "mossy.safetensors")
    loaded = api.load_preset(tmp_path / "mossy.safetensors")
    assert (loaded.name, loaded.class_name) == ("mossy", "class2")
    assert loaded.model == api.model_identity(model.cfg)

    other_label = scene(100, 37, seed=5)
    target = api.generate(model, other_label, seed=8)[0]
    result = api.apply_preset(model, other_label, target.codes, loaded)
    for layer, code in result.codes.layers.items():
        assert torch.equal(code[0, 2], source.codes.layers[layer][0, 2])
        assert torch.equal(code[0, [0, 1, 3, 4]], target.codes.layers[layer][0, [0, 1, 3, 4]])
    assert result.image.shape == (100, 37, 3)


def test_presets_go_to_the_class_of_the_same_name_in_another_model(model):
    source = api.generate(model, scene(), seed=3)[0].codes
    preset = api.export_preset(model, source, "class1", "x")
    reordered = make_model()
    reordered.cfg.classes[:] = tiny_classes(5)[::-1]  # class1 is id 3 there
    codes = api.generate(reordered, scene(), seed=1)[0].codes
    moved = api.preset_codes(reordered.cfg, codes, preset)
    for layer, code in moved.layers.items():
        assert torch.equal(code[0, 3], source.layers[layer][0, 1])


def test_a_preset_of_a_class_name_the_model_lacks_needs_an_explicit_class(model):
    preset = api.export_preset(model, api.generate(model, scene(), seed=3)[0].codes, "class2", "mossy")
    renamed = make_model()
    renamed.cfg.classes[2] = ClassInfo("moss", (1, 2, 3))
    renamed_codes = api.generate(renamed, scene(), seed=1)[0].codes
    with pytest.raises(api.EditError) as error:
        api.preset_codes(renamed.cfg, renamed_codes, preset)
    assert error.value.code == "preset_class_unknown"
    explicit = api.preset_codes(renamed.cfg, renamed_codes, preset, cls="moss")
    assert torch.equal(explicit.layers[1][0, 2], torch.from_numpy(preset.layers[1]))


def test_presets_need_matching_code_sizes_and_a_class_in_the_mask(model):
    preset = api.export_preset(model, api.generate(model, scene(), seed=3)[0].codes, 4, "x")
    wider = make_model(code_dim=7)
    with pytest.raises(api.EditError) as error:
        api.preset_codes(wider.cfg, api.generate(wider, scene(), seed=1)[0].codes, preset)
    assert error.value.code == "preset_mismatch"
    without_4 = np.where(scene() == 4, 0, scene())
    codes = api.generate(model, without_4, seed=1)[0].codes
    with pytest.raises(api.EditError) as error:
        api.apply_preset(model, without_4, codes, preset)
    assert error.value.code == "class_absent"
    with pytest.raises(api.EditError) as error:
        api.export_preset(model, codes, 4, "x")
    assert error.value.code == "class_absent"
    with pytest.raises(api.EditError) as error:
        api.export_preset(model, codes, 1, " ")
    assert error.value.code == "bad_preset_name"


def test_a_library_lists_its_presets_and_names_unreadable_files(model, tmp_path):
    codes = api.generate(model, scene(), seed=3)[0].codes
    api.save_preset(api.export_preset(model, codes, 1, "b preset"), tmp_path / "b.safetensors")
    api.save_preset(api.export_preset(model, codes, 3, "a preset"), tmp_path / "a.safetensors")
    (tmp_path / "c.safetensors").write_bytes(b"not a preset")
    (tmp_path / "notes.txt").write_text("ignored")
    entries = api.list_presets(tmp_path)
    assert [e.path.name for e in entries] == ["a.safetensors", "b.safetensors", "c.safetensors"]
    assert [e.preset.name for e in entries[:2]] == ["a preset", "b preset"]
    assert entries[2].preset is None and "c.safetensors" in entries[2].problem
    with pytest.raises(api.EditError):
        api.list_presets(tmp_path / "missing")


def test_codes_files_round_trip_and_reject_other_files(model, tmp_path):
    result = api.generate(model, scene(), seed=3)[0]
    api.save_codes(tmp_path / "r.codes.safetensors", result.codes, model.cfg, seed=result.seed)
    codes, info = api.load_codes(tmp_path / "r.codes.safetensors")
    for name, tensor in result.codes.tensors().items():
        assert torch.equal(codes.tensors()[name], tensor)
    assert torch.equal(codes.present, result.codes.present)
    assert info["seed"] == 3 and info["model"] == api.model_identity(model.cfg)
    api.save_preset(api.export_preset(model, codes, 1, "p"), tmp_path / "p.safetensors")
    for wrong in (tmp_path / "p.safetensors", tmp_path / "missing.safetensors"):
        with pytest.raises(api.EditError) as error:
            api.load_codes(wrong)
        assert error.value.code == "bad_file"
