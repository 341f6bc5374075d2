"""The evaluation loop on tiny random models: reproducible, n/a where a model lacks a part."""

import math

import pytest

from clvae.data import build_dataset
from clvae.eval.backbones import LPIPS
from clvae.eval.evaluate import (
    EvalError, Networks, Purpose, Settings, derived_seed, evaluate, summarise, unmet_need,
)
from clvae.eval.metrics import METRIC, METRICS, STYLE, metrics_of
from clvae.model_io import load_synthesizer

FAST = Settings(masks=2, samples=3, min_pixels=400, groups=(STYLE,))


def procedural(masks: int, size: int = 64):
    return build_dataset("procedural", None, "test", size=(size, size), length=masks)


def test_derived_seeds_are_fixed_and_distinct():
    seeds = {derived_seed(0, mask, purpose, cls) for mask in range(3) for purpose in Purpose for cls in range(3)}
    assert len(seeds) == 3 * len(Purpose) * 3
    assert derived_seed(5, 1, Purpose.EDIT, 2) == derived_seed(5, 1, Purpose.EDIT, 2)


def test_ratios_are_ratios_of_means():
    tally = {"separation_coarse_color": [1.0, 3.0], "separation_fine_color": [1.0, math.nan],
             "separation_coarse_texture": [1.0], "separation_fine_texture": [0.0]}
    metrics = [m for m in METRICS if m.key.startswith("separation_")]
    result = summarise(metrics, tally, {})
    assert result.values["separation_color_ratio"] == 2.0
    assert result.counts["separation_fine_color"] == 1
    assert result.values["separation_texture_ratio"] == 0.0
    assert "separation_texture_ratio" not in result.reasons


def test_style_metrics_are_reproducible(model_files):
    model = load_synthesizer(model_files["clvae"])
    first = evaluate(model, procedural(2), FAST, Networks(), progress=False)
    second = evaluate(model, procedural(2), FAST, Networks(), progress=False)
    assert first.values == second.values
    pooled = {"style_fd_color", "style_fd_texture"}  # need a class in 5 masks: n/a with 2
    assert set(first.values) == {m.key for m in metrics_of((STYLE,))} - pooled
    assert all(math.isfinite(v) for v in first.values.values()), first.reasons
    assert first.reasons["style_fd_color"] == "no class was measured in 5 masks"
    assert 0 <= first.values["locality"] <= 1 and 0 <= first.values["locality_unanchored"] <= 1
    assert first.values["locality"] != first.values["locality_unanchored"]
    assert first.values["class_diversity_color"] > 0


def test_style_realism_pools_every_mask(model_files):
    model = load_synthesizer(model_files["clvae"])
    settings = Settings(masks=6, samples=2, min_pixels=400, groups=(STYLE,))
    result = evaluate(model, procedural(6), settings, Networks(), progress=False)
    assert result.values["style_fd_color"] > 0 and result.values["style_fd_texture"] > 0
    assert result.counts["style_fd_color"] == 6


def test_models_without_parts_get_reasons(model_files):
    gaugan = evaluate(load_synthesizer(model_files["gaugan"]), procedural(2), FAST, Networks(), progress=False)
    assert gaugan.reasons["pixel_l1"] == "a gaugan model has no encoder"
    assert gaugan.reasons["locality"] == "a gaugan model has no class-wise codes"
    assert gaugan.values["class_diversity_color"] == 0.0  # one image per mask, whatever the seed
    vae = evaluate(load_synthesizer(model_files["gaugan_vae"]), procedural(2), FAST, Networks(), progress=False)
    assert math.isfinite(vae.values["fidelity_transfer_color_ratio"])
    assert vae.reasons["separation_color_ratio"] == "a gaugan_vae model has no class-wise codes"


def test_paper_metrics_need_their_networks_and_fid_two_masks(model_files):
    cfg = load_synthesizer(model_files["clvae"]).cfg
    assert unmet_need(METRIC["fid"], cfg, Networks(), Settings(masks=2)) == "no FID Inception weights"
    assert unmet_need(METRIC["fid"], cfg, Networks(), Settings(masks=1)) == "FID needs at least 2 masks"
    assert unmet_need(METRIC["diversity"], cfg, Networks(), Settings()) == "no LPIPS weights"
    assert unmet_need(METRIC["diversity"], cfg, Networks(lpips=LPIPS()), Settings()) is None


def test_bad_settings_and_data_are_refused(model_files):
    model = load_synthesizer(model_files["clvae"])
    with pytest.raises(EvalError, match="samples >= 2"):
        evaluate(model, procedural(2), Settings(samples=1), Networks(), progress=False)
    with pytest.raises(EvalError, match="only 2 items"):
        evaluate(model, procedural(2), Settings(masks=3), Networks(), progress=False)
    ade = build_dataset("procedural", None, "test", length=2)
    ade.classes = ade.classes[:5]
    with pytest.raises(EvalError, match="5 classes but the model has 12"):
        evaluate(model, ade, FAST, Networks(), progress=False)
