"""The shipped weights: the bundled clvae model and its GauGAN-VAE baseline (docs/results.md)."""

import numpy as np
import pytest

from clvae import edit as api
from clvae.data import build_dataset
from clvae.eval.evaluate import read_scene
from clvae.eval.style import measured_classes, statistics, style_spread
from clvae.model_io import BASELINE_MODEL, BUNDLED_MODEL, load_synthesizer

SHIPPED_LIMIT = 25 * 2**20


@pytest.fixture(scope="module")
def shipped():
    return {"clvae": load_synthesizer(BUNDLED_MODEL), "gaugan_vae": load_synthesizer(BASELINE_MODEL)}


def test_both_models_ship_small_and_match_each_other(shipped):
    assert BUNDLED_MODEL.stat().st_size < SHIPPED_LIMIT and BASELINE_MODEL.stat().st_size < SHIPPED_LIMIT
    clvae, baseline = shipped["clvae"].cfg, shipped["gaugan_vae"].cfg
    assert (clvae.variant, baseline.variant) == ("clvae", "gaugan_vae")
    assert clvae.classes == baseline.classes and (clvae.height, clvae.width) == (baseline.height, baseline.width)
    assert not baseline.uses_class_codes and clvae.uses_class_codes


def test_the_bundled_model_varies_class_styles_more_than_its_baseline(shipped):
    """docs/results.md measures 7.5x on 50 masks; two masks of 8 samples must show 2x."""
    cfg = shipped["clvae"].cfg
    scenes = build_dataset("procedural", None, "test", size=(cfg.height, cfg.width), length=2)
    spread = {name: [] for name in shipped}
    for index in range(2):
        scene = read_scene(scenes, index, cfg)
        classes = measured_classes(scene.label, cfg.num_classes, 16)
        for name, model in shipped.items():
            images = [r.image for r in api.generate(model, scene.label, n=8, seed=index * 100)]
            spread[name].append(style_spread(statistics(images, scene.label, cfg.num_classes), classes)[0])
    assert np.mean(spread["clvae"]) > 2 * np.mean(spread["gaugan_vae"])
