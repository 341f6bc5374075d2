"""`clvae` round trips through ``main([...])`` with a tiny model file."""

import json

import numpy as np
import pytest
from PIL import Image

from clvae import cli
from clvae.edit import load_codes
from clvae.edit.feather import distance_to_region
from clvae.labels import label_to_picture, read_label
from clvae.model import Synthesizer
from clvae.model_io import load_synthesizer, save_synthesizer
from tests.conftest import tiny_config
from tests.edit.helpers import scene


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.safetensors"
    save_synthesizer(path, Synthesizer(tiny_config()))
    return str(path)


@pytest.fixture(scope="module")
def mask(tmp_path_factory, model_file):
    """A 50 x 30 palette-coloured label picture with antialiased edges, and the label painted."""
    classes = load_synthesizer(model_file).cfg.classes
    label = scene(30, 50)
    picture = label_to_picture(label, classes).astype(np.float32)
    edge = np.nonzero(label[:, 1:] != label[:, :-1])
    picture[edge] = 0.5 * picture[edge] + 0.5 * picture[edge[0], edge[1] + 1]
    path = tmp_path_factory.mktemp("masks") / "scene.png"
    Image.fromarray(np.rint(picture).astype(np.uint8)).save(path)
    return str(path), label


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def run_ok(capsys, *argv):
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    return out


def generated(capsys, tmp_path, model_file, mask_path, n=1, seed=4):
    run_ok(capsys, "generate", "--model", model_file, "--mask", mask_path, "-n", n, "--out", tmp_path / "out", "--seed", seed)
    return tmp_path / "out" / f"scene_seed{seed}.png"


def test_help_and_the_mounted_train_command(capsys):
    assert run(capsys, "--help")[0] == 0
    assert run(capsys, "train", "--help")[0] == 0


def test_info_json_is_stable(capsys, model_file):
    info = json.loads(run_ok(capsys, "info", "--model", model_file, "--json"))
    assert info["format"] == 1 and info["variant"] == "clvae"
    assert info["resolution"] == {"height": 64, "width": 64}
    assert info["classes"][1] == {"id": 1, "name": "class1", "color": [20, 50, 90]}
    assert info["codes"] == {"z_dim": 8, "code_channels": 5, "code_layers": [1, 2, 3, 4, 5], "codes_per_layer": 5}
    assert info["layer_groups"]["coarse"] == [3, 4, 5]
    assert info["blocks"][0] == {"block": "head_0", "conditioning": "layer 5"}
    assert "class4" in run_ok(capsys, "info", "--model", model_file)


def test_generate_writes_images_of_the_mask_size_with_their_codes(capsys, tmp_path, model_file, mask):
    first = generated(capsys, tmp_path, model_file, mask[0], n=3, seed=4)
    names = sorted(p.name for p in first.parent.iterdir())
    assert names == [f"scene_seed{s}{ext}" for s in (4, 5, 6) for ext in (".codes.safetensors", ".png")]
    assert Image.open(first).size == (50, 30)
    codes, info = load_codes(first.with_name("scene_seed4.codes.safetensors"))
    assert info["seed"] == 4 and codes.batch_size == 1


def test_reroll_with_preservation_keeps_pixels_away_from_the_class(capsys, tmp_path, model_file, mask):
    path = mask[0]
    label, _ = read_label(path, load_synthesizer(model_file).cfg.classes)  # edges as the CLI reads them
    original = generated(capsys, tmp_path, model_file, path)
    out = tmp_path / "reroll.png"
    run_ok(capsys, "reroll", "--model", model_file, "--mask", path, "--codes", original.with_name("scene_seed4.codes.safetensors"),
           "--class", "class2", "--layers", "coarse", "--preserve", original, "--feather", 3, "--seed", 1, "--out", out)
    before, after = np.asarray(Image.open(original)), np.asarray(Image.open(out))
    far = distance_to_region(label == 2, 3) >= 3
    assert np.array_equal(before[far], after[far]) and not np.array_equal(before, after)
    assert out.with_name("reroll.codes.safetensors").exists()


def test_edited_codes_files_keep_their_anchor_unless_told_not_to(capsys, tmp_path, model_file, mask):
    path = mask[0]
    codes = generated(capsys, tmp_path, model_file, path).with_name("scene_seed4.codes.safetensors")
    common = ("--model", model_file, "--mask", path, "--codes", codes, "--class", "class2", "--seed", 1)
    run_ok(capsys, "reroll", *common, "--out", tmp_path / "anchored.png")
    run_ok(capsys, "reroll", *common, "--no-anchor", "--out", tmp_path / "plain.png")
    anchored, _ = load_codes(tmp_path / "anchored.codes.safetensors")
    plain, _ = load_codes(tmp_path / "plain.codes.safetensors")
    original, _ = load_codes(codes)
    assert plain.anchor is None and anchored.anchor is not None
    assert np.array_equal(anchored.anchor.layers[1].numpy(), original.layers[1].numpy())
    run_ok(capsys, "edit", *common, "--no-anchor", "--out", tmp_path / "edit.png")
    assert load_codes(tmp_path / "edit.codes.safetensors")[0].anchor is None


def test_edit_transfer_reconstruct_and_presets(capsys, tmp_path, model_file, mask):
    path = mask[0]
    image = generated(capsys, tmp_path, model_file, path)
    codes = image.with_name("scene_seed4.codes.safetensors")
    common = ("--model", model_file, "--mask", path)
    for target in ("random", "direction", codes):
        run_ok(capsys, "edit", *common, "--codes", codes, "--class", 1, "--layers", "1,2", "--target", target,
               "--strength", 0.7, "--out", tmp_path / "edit.png")
    run_ok(capsys, "transfer", *common, "--ref-image", image, "--ref-mask", path, "--class", "class3", "--no-global",
           "--out", tmp_path / "transfer.png")
    run_ok(capsys, "reconstruct", *common, "--image", image, "--out", tmp_path / "reconstruct.png")
    preset = tmp_path / "presets" / "p.safetensors"
    run_ok(capsys, "preset", "export", "--model", model_file, "--codes", codes, "--class", "class3", "--name", "P",
           "--out", preset)
    run_ok(capsys, "preset", "apply", *common, "--codes", tmp_path / "reconstruct.codes.safetensors", "--preset", preset,
           "--out", tmp_path / "applied.png")
    listing = json.loads(run_ok(capsys, "preset", "list", preset.parent, "--json"))
    assert listing == [{"path": str(preset), "name": "P", "class": "class3", "problem": None}]
    for name in ("edit", "transfer", "reconstruct", "applied"):
        assert Image.open(tmp_path / f"{name}.png").size == (50, 30)


def one_line_error(capsys, *argv) -> str:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("clvae: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_user_errors_are_one_line_and_status_2(capsys, tmp_path, model_file, mask, monkeypatch):
    path = mask[0]
    monkeypatch.setattr(cli, "BUNDLED_MODEL", tmp_path / "missing.safetensors")
    assert "bundled model" in one_line_error(capsys, "info")
    assert "seed" in one_line_error(capsys, "generate", "--model", model_file, "--mask", path, "--out", tmp_path,
                                    "--seed", -1)
    image = generated(capsys, tmp_path, model_file, path)
    codes = image.with_name("scene_seed4.codes.safetensors")
    assert "no class 'sea'" in one_line_error(capsys, "reroll", "--model", model_file, "--mask", path, "--codes", codes,
                                              "--class", "sea", "--out", tmp_path / "x.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    assert "broken.png" in one_line_error(capsys, "generate", "--model", model_file, "--mask", tmp_path / "broken.png",
                                          "--out", tmp_path)
    assert "missing.png" in one_line_error(capsys, "generate", "--model", model_file, "--mask", tmp_path / "missing.png",
                                           "--out", tmp_path)
    assert "not a clvae checkpoint" in one_line_error(capsys, "info", "--model", codes)
    assert "not a readable safetensors" in one_line_error(capsys, "info", "--model", image)
    assert "unknown device" in one_line_error(capsys, "info", "--model", model_file, "--device", "abacus")
    status, _, err = run(capsys, "generate", "-n", "many")
    assert status == 2 and "invalid int" in err  # argparse's own usage errors


def test_off_palette_pixels_need_snap(capsys, tmp_path, model_file, mask):
    picture = np.asarray(Image.open(mask[0])).copy()
    picture[2:4, 5:8] = (255, 0, 255)
    Image.fromarray(picture).save(tmp_path / "odd.png")
    args = ("generate", "--model", model_file, "--mask", tmp_path / "odd.png", "--out", tmp_path / "out")
    assert "6 pixels" in one_line_error(capsys, *args) and "x 5..7, y 2..3" in one_line_error(capsys, *args)
    status, _, err = run(capsys, *args, "--snap")
    assert status == 0 and err.startswith("clvae: warning:")
