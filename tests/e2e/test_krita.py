"""The Krita plugin end to end: the real clvae-daemon (a small random model, free port) and
the real Krita under Xvfb, the plugin installed by install/install_krita_plugin.sh and
driven through its own docker by tests/e2e/driver.

Run 1 paints a 512 x 512 label layer, generates two variants, re-rolls the sky keeping the
rest, nudges the grass inside a selection, takes the style of a second document, saves the
.kra. Run 2 reopens it and re-rolls a class of a result made in run 1. The checks read the
layers' pixels as the driver dumped them.

CLVAE_E2E_MODEL=bundled uses the bundled model's architecture (its file if installed,
else random weights) instead of the tiny one, for timings; CLVAE_SCREENSHOT_DIR copies the
screenshots there (docs/images for the README).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import tests.plugin  # noqa: F401  (puts plugin/ on sys.path)
from clvae.config import ModelConfig
from clvae.data.procedural.classes import CLASSES
from clvae.model import Synthesizer
from clvae.model_io import save_synthesizer
from clvae_krita.palette import Palette, read_label_pixels
from daemon.launch import free_port, start_daemon
from tests.e2e.krita_session import (
    ROOT, Xvfb, copy_home, install_driver, install_plugin, missing_tools, run_krita,
)

REASON = missing_tools()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=f"no real Krita: {REASON}")]
MODEL_NAME = "scenes"
SIZE = 512
PREPARE_DEADLINE = 90.0  # Krita's first start builds its resource database
RUN_DEADLINE = 75.0
BUNDLED = ROOT / "clvae/assets/procedural.safetensors"


def model_config() -> ModelConfig:
    if os.environ.get("CLVAE_E2E_MODEL") == "bundled":  # configs/procedural.toml's model
        return ModelConfig(list(CLASSES), height=128, width=128, ngf=12, ndf=32, z_dim=128, spade_hidden=64,
                           encoder_size=128)
    return ModelConfig(list(CLASSES), height=64, width=64, ngf=4, ndf=4, z_dim=8, encoder_size=128, spade_hidden=8)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("krita-e2e")


@pytest.fixture(scope="module")
def display(work):
    screen = Xvfb(work / "xvfb.log")
    yield screen.display
    screen.stop()


@pytest.fixture(scope="module")
def prepared_home(work, display) -> Path:
    home = work / "prepared-home"
    install_driver(home)
    run = run_krita(home, display, "prepare", work / "prepare", PREPARE_DEADLINE)
    assert run.log["finished"], (run.log, run.krita_output())
    return home


@pytest.fixture(scope="module")
def daemon(work):
    model_file = BUNDLED if os.environ.get("CLVAE_E2E_MODEL") == "bundled" and BUNDLED.is_file() else None
    if model_file is None:
        torch.manual_seed(0)
        model_file = work / "scenes.safetensors"
        save_synthesizer(model_file, Synthesizer(model_config()).eval())
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    child = start_daemon(["--model", f"{MODEL_NAME}={model_file}", "--endpoint", endpoint, "--device", "cpu"],
                         endpoint, work / "daemon.log")
    yield endpoint, f"{MODEL_NAME}={model_file}"
    assert child.stop() == 0
    assert "Traceback" not in child.log(), child.log()[-3000:]


def session(work: Path, prepared_home: Path, display: str, daemon, scenario: str, inputs: dict[str, Path]):
    home = copy_home(prepared_home, work / f"home-{scenario}")
    installed = install_plugin(home, *daemon)
    assert installed.returncode == 0, installed.stderr
    out = work / scenario
    out.mkdir()
    for name, path in inputs.items():
        shutil.copy(path, out / name)
    run = run_krita(home, display, scenario, out, RUN_DEADLINE)
    assert not run.log["errors"] and run.log["finished"], (run.log["errors"], run.krita_output())
    assert run.returncode == 0, run.krita_output()
    if os.environ.get("CLVAE_SCREENSHOT_DIR") and (out / "shots").is_dir():
        shutil.copytree(out / "shots", os.environ["CLVAE_SCREENSHOT_DIR"], dirs_exist_ok=True)
    return home, run


@pytest.fixture(scope="module")
def first(work, prepared_home, display, daemon):
    return session(work, prepared_home, display, daemon, "first", {})


@pytest.fixture(scope="module")
def reopened(work, prepared_home, display, daemon, first):
    _, run = first
    return session(work, prepared_home, display, daemon, "reopen",
                   {"first.json": run.out / "log.json", "scene.kra": run.out / "scene.kra"})


# ---- reading what the driver dumped -------------------------------------------------------------


def pixels(run, tag: str) -> np.ndarray:
    info = run.log["layers"][tag]
    data = np.frombuffer((run.out / f"{tag}.bgra").read_bytes(), np.uint8)
    return data.reshape(info["height"], info["width"], 4)


def class_ids(run, tag: str = "labels_before") -> np.ndarray:
    """The label layer as the plugin reads it."""
    palette = Palette.from_model_info(run.log["model"])
    label = read_label_pixels(pixels(run, tag).tobytes(), SIZE, SIZE, palette)
    return np.asarray(label.ids, np.uint8).reshape(SIZE, SIZE)


def grow(region: np.ndarray, radius: int) -> np.ndarray:
    """``region`` dilated by a disc of ``radius`` pixels."""
    grown = region.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                grown |= np.roll(region, (dy, dx), axis=(0, 1))
    return grown


def changed(run, before: str, after: str) -> np.ndarray:
    return (pixels(run, before) != pixels(run, after)).any(axis=2)


# ---- the checks ------------------------------------------------------------------------------------


def test_installer_put_a_self_contained_plugin_in_place(first):
    home, _ = first
    package = home / ".local/share/krita/pykrita/clvae_krita"
    assert (package / "protocol.py").is_file() and not (package / "protocol.py").is_symlink()
    assert (package / "client.py").is_file() and not (package / "client.py").is_symlink()
    kritarc = (home / ".config/kritarc").read_text()
    assert "enable_clvae_krita=true" in kritarc and "daemon_command=" in kritarc
    assert (home / f".local/share/krita/palettes/clvae-{MODEL_NAME}.kpl").is_file()


def test_palette_loads_in_krita_and_swatches_set_the_foreground(first):
    _, run = first
    classes = run.log["model"]["classes"]
    assert run.log["palette"] == [[c["name"], c["color"]] for c in classes]
    assert run.log["foreground"] == run.log["classes"][3][1]


def test_every_result_is_exactly_the_canvas_and_opaque(first):
    _, run = first
    for tag in ("generate_0", "generate_1", "reroll", "nudge", "style"):
        info = run.log["layers"][tag]
        assert info["bounds"] == [0, 0, SIZE, SIZE], (tag, info)
        assert info["parent"] == "clvae"
        assert (pixels(run, tag)[..., 3] == 255).all(), tag


def test_the_label_layer_is_never_modified(first):
    _, run = first
    assert (pixels(run, "labels_before") == pixels(run, "labels_after")).all()


def test_results_sit_in_the_clvae_group_right_above_the_labels(first):
    _, run = first
    tree = run.log["tree"]
    names = [name for name, _, _ in tree]
    group = names.index("clvae")
    assert tree[group][1] == "grouplayer" and tree[group][2] is None
    children = [name for name, _, parent in tree if parent == "clvae"]
    assert names[group + 1 + len(children)] == "labels"
    assert {"seed 100", "seed 101"} <= set(children)
    assert any("re-rolled" in n for n in children) and any("nudged" in n for n in children)
    assert "style of reference: photo, seed 3" in children


def test_generated_variants_differ(first):
    _, run = first
    assert changed(run, "generate_0", "generate_1").mean() > 0.5


def test_class_under_the_selection_is_found(first):
    _, run = first
    assert run.log["class_from_selection"] == run.log["classes"][3][0]


def test_reroll_with_preservation_changes_only_that_class(first):
    _, run = first
    region = class_ids(run) == run.log["reroll"]["class"]
    moved = changed(run, "generate_0", "reroll")
    assert moved[region].mean() > 0.5
    assert not (moved & ~grow(region, run.log["reroll"]["feather"])).any()


def test_nudge_changes_only_that_class_inside_the_selection(first):
    _, run = first
    x, y, width, height = run.log["nudge"]["box"]
    allowed = np.zeros((SIZE, SIZE), bool)
    allowed[y:y + height, x:x + width] = True
    allowed &= class_ids(run) == run.log["nudge"]["class"]
    moved = changed(run, "generate_0", "nudge")
    assert moved.any() and not (moved & ~allowed).any()


def test_style_from_a_reference_document(first):
    _, run = first
    assert run.log["layers"]["style"]["name"] == "style of reference: photo, seed 3"
    assert changed(run, "generate_0", "style").any()


def test_results_remember_how_they_were_made_after_reopening(first, reopened):
    _, first_run = first
    _, run = reopened
    assert set(first_run.log["generated"]) <= set(run.log["records"])
    region = class_ids(first_run) == run.log["reroll_reopened"]["class"]
    moved = changed(run, "reopened_source", "reopened_reroll")
    assert moved[region].mean() > 0.5
    assert not (moved & ~grow(region, run.log["reroll_reopened"]["feather"])).any()


def test_stray_colours_are_reported_with_their_place(reopened):
    _, run = reopened
    assert not run.log["stray"]["sent"]
    message = run.log["stray"]["message"]
    assert "far from every class colour" in message and "#ff00ff" in message and "(20, 10)" in message


def test_generate_click_to_layers_time(first):
    _, run = first
    timing = run.log["timings"]["generate"]
    report = {"canvas": f"{SIZE} x {SIZE}", "variants": 2, "model": os.environ.get("CLVAE_E2E_MODEL", "tiny"),
              "click_to_layers_s": round(timing["click_to_layers"], 3), "others": run.log["timings"]}
    print("generate timing:", json.dumps(report))
    assert timing["click_to_layers"] < 60
