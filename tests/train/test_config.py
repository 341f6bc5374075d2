"""TrainConfig: TOML files, typed --set overrides, clear errors, generated help."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from clvae.train.cli import config_from_args, configure_parser
from clvae.train.config import SECTIONS, TrainConfig, help_text, load_config, read_toml
from clvae.train.errors import TrainError
from tests.train.helpers import REPO, tiny_values, write_toml

CONFIGS = sorted((REPO / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_bundled_configs_load(path):
    config = load_config(read_toml(path), source=str(path))
    assert config.to_dict() == TrainConfig.from_dict(config.to_dict()).to_dict()


def test_the_bundled_configs_are_the_documented_ones():
    names = {p.name for p in CONFIGS}
    assert {"procedural.toml", "gaugan_vae_procedural.toml", "ade20k.toml"} <= names
    procedural, gaugan_vae = (load_config(read_toml(REPO / "configs" / name))
                              for name in ("procedural.toml", "gaugan_vae_procedural.toml"))
    assert (procedural.model.variant, gaugan_vae.model.variant) == ("clvae", "gaugan_vae")
    assert procedural.loss.vgg == 0 and procedural.data.size == (128, 128)
    changed = {k for k, v in gaugan_vae.to_dict()["model"].items() if procedural.to_dict()["model"][k] != v}
    assert changed == {"variant"}


def test_overrides_are_typed_by_the_fields():
    config = load_config({}, ["optim.lr_G=2e-4", "data.size=[64, 128]", "run.run_dir=runs/2024",
                              "run.compile=true", "data.options.on_bad=skip", "loss.vgg_weights=none",
                              "optim.betas=[0.5, 0.999]", "loss.kl=1"])
    assert config.optim.lr_G == 2e-4 and config.data.size == (64, 128)
    assert config.run.run_dir == "runs/2024" and config.run.compile is True
    assert config.data.options == {"on_bad": "skip"} and config.loss.vgg_weights is None
    assert config.optim.betas == (0.5, 0.999) and config.loss.kl == 1.0 and isinstance(config.loss.kl, float)


@pytest.mark.parametrize("assignment, words", [
    ("optim.lrG=1", ["unknown setting optim.lrG", "batch_size", "lr_G", "niter_decay"]),
    ("training.seed=1", ["unknown section", "data, model, optim, loss, run"]),
    ("optim.batch_size=four", ["optim.batch_size must be integer", "four"]),
    ("run.amp=fp8", ["run.amp must be one of auto | off | bf16 | fp16"]),
    ("data.size=[1, 2, 3]", ["data.size must be a list of 2 x integer"]),
    ("optim.batch_size", ["section.key=value"]),
    ("optim.batch_size=0", ["optim.batch_size must be at least 1"]),
    ("model.variant=vae", ["invalid model config", "variant"]),
])
def test_bad_settings_are_clear_errors(assignment, words):
    with pytest.raises(TrainError) as caught:
        load_config({}, [assignment])
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("assignments, words", [
    (["loss.locality=1", "model.variant=gaugan_vae"], ["loss.locality", "gaugan_vae model has no class-wise codes"]),
    (["loss.locality=1", "model.variant=no_classwise"], ["no_classwise model has no class-wise codes"]),
    (["loss.locality=1", "run.compile=true"], ["loss.locality does not work with run.compile"]),
    (["loss.locality_margin=-1"], ["loss.locality_margin must be >= 0"]),
    (["loss.locality=-1"], ["loss weights must be >= 0"]),
])
def test_the_locality_term_needs_class_codes_and_no_compile(assignments, words):
    with pytest.raises(TrainError) as caught:
        load_config({}, assignments)
    for word in words:
        assert word in str(caught.value)
    assert load_config({}, ["loss.locality=2", "model.variant=no_layerwise"]).loss.locality == 2.0


def test_a_file_with_an_unknown_key_names_the_valid_ones(tmp_path):
    path = write_toml(tmp_path / "bad.toml", {"run": {"checkpoint_evry": 5}})
    with pytest.raises(TrainError, match="unknown setting run.checkpoint_evry; the keys of \\[run\\] are: run_dir"):
        load_config(read_toml(path))


def test_learning_rate_presets_and_explicit_rates():
    assert load_config({}).optim.learning_rates() == (1e-4, 4e-4)
    assert load_config({}, ["optim.lr_preset=paper"]).optim.learning_rates() == (4e-4, 1e-4)
    assert load_config({}, ["optim.lr_preset=paper", "optim.lr_D=3e-4"]).optim.learning_rates() == (4e-4, 3e-4)


def test_help_lists_every_setting_with_its_comment():
    text = help_text()
    for name, cls in SECTIONS.items():
        assert f"[{name}]" in text
        for f in dataclasses.fields(cls):
            assert f"    {f.name} = " in text
    assert "the authors' code (SPADE's TTUR)" in text  # OptimSettings' docstring
    assert "lambda_VGG (0 turns the VGG term off)" in text  # LossWeights' comment
    assert "unimodal GauGAN" in text  # ModelConfig's docstring


def test_direct_flags_and_set_apply_over_the_file(tmp_path):
    path = write_toml(tmp_path / "c.toml", tiny_values(tmp_path / "run"))
    parser = configure_parser(argparse.ArgumentParser())
    args = parser.parse_args(["--config", str(path), "--set", "optim.batch_size=3", "--iterations", "7",
                              "--run-dir", str(tmp_path / "other")])
    config = config_from_args(args)
    assert (config.optim.batch_size, config.run.max_iterations) == (3, 7)
    assert Path(config.run.run_dir) == tmp_path / "other"
    assert config.model.ngf == 4
