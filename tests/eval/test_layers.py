"""The coarse/fine layer table: per-layer effects on a tiny random model, the split, and
the groups written into (and read back from) a model file."""

import math
import shutil

from clvae.eval.layers import LayerEffect, layer_effects, main, split_groups
from clvae.model_io import load_synthesizer


def test_split_puts_colour_heavy_layers_in_coarse():
    effects = {1: LayerEffect(0.5, 0.01, 0.8), 2: LayerEffect(0.2, 0.01, 0.7),
               3: LayerEffect(0.01, 0.02, 0.5), 4: LayerEffect(0.02, 0.04, 0.4)}
    assert split_groups(effects) == {"coarse": [1, 2], "fine": [3, 4]}


def test_effects_cover_every_code_layer_with_a_share_for_locality(model_files):
    model = load_synthesizer(model_files["clvae"])
    effects = layer_effects(model, masks=1)
    assert sorted(effects) == list(model.cfg.code_layers)
    for effect in effects.values():
        assert effect.color >= 0 and effect.texture >= 0
        assert math.isnan(effect.locality) or 0.0 <= effect.locality <= 1.0
    assert any(effect.color > 0 for effect in effects.values())


def test_write_stores_groups_that_loading_picks_up(model_files, tmp_path, capsys):
    path = tmp_path / "model.safetensors"
    shutil.copy(model_files["clvae"], path)
    assert main(["--model", str(path), "--masks", "1", "--write"]) == 0
    printed = capsys.readouterr().out
    assert "locality" in printed.splitlines()[0]
    model = load_synthesizer(path)
    groups = model.layer_groups
    assert sorted(groups["coarse"] + groups["fine"]) == sorted(model.cfg.code_layers)


def test_a_model_without_layer_codes_is_refused(model_files, capsys):
    assert main(["--model", model_files["gaugan_vae"], "--masks", "1"]) == 2
    assert "no layer-wise codes" in capsys.readouterr().err
