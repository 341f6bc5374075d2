"""Whole runs in-process: outputs, exports, and every clear start-up or save error."""

from __future__ import annotations

import errno

import pytest
import torch

from clvae import checkpoint
from clvae.checkpoint import load_checkpoint, save_checkpoint
from clvae.model_io import load_synthesizer
from clvae.train import TrainError, train
from clvae.train.cli import main
from clvae.train.state import CHECKPOINT_FILE, MODEL_FILE, read_checkpoint
from tests.train.helpers import tiny_config, tiny_values, write_toml

IN_PROCESS = {"deterministic": False}  # leave torch's global determinism switch alone


def test_a_run_writes_checkpoint_model_and_logs(tmp_path):
    config = tiny_config(tmp_path, run={**IN_PROCESS, "image_every": 4}, optim={"ema_decay": 0.5})
    result = train(config)

    assert (result.iteration, result.iterations_run, result.stopped_early) == (8, 8, False)
    saved = read_checkpoint(tmp_path / CHECKPOINT_FILE)
    assert saved.iteration == 8 and saved.position.epoch == 2  # 8 images, batch 2: 4 per epoch
    assert {"synthesizer", "ema", "discriminator", "optimizer_G", "optimizer_D", "scheduler_G",
            "scheduler_D", "scaler_G", "scaler_D", "rng"} <= set(saved.state)
    assert saved.train_config == config.to_dict()

    model = load_synthesizer(tmp_path / MODEL_FILE)
    ema = saved.state["ema"]
    assert all(torch.equal(model.state_dict()[k], ema[k]) for k in ema)  # the EMA is what is exported
    assert model.cfg.to_dict() == saved.model_config and not model.training
    assert list(tmp_path.glob("events.out.tfevents.*"))


def test_a_finished_run_resumes_to_nothing_and_a_longer_one_continues(tmp_path):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 3}))
    assert read_checkpoint(tmp_path / CHECKPOINT_FILE).iteration == 3
    result = train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 3}), resume=True)
    assert result.iterations_run == 0
    result = train(tiny_config(tmp_path, run=IN_PROCESS), resume=True)
    assert (result.iteration, result.iterations_run) == (8, 5)


def test_a_new_run_will_not_overwrite_a_checkpoint(tmp_path):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 1}))
    with pytest.raises(TrainError, match="already holds a checkpoint; pass --resume"):
        train(tiny_config(tmp_path, run=IN_PROCESS))


def test_resuming_with_another_class_count_is_a_clear_error(tmp_path):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 1}))
    path = tmp_path / CHECKPOINT_FILE
    tensors, meta = load_checkpoint(path)
    meta["model_config"]["classes"] = meta["model_config"]["classes"][:5]
    save_checkpoint(path, tensors, meta)
    with pytest.raises(TrainError, match="trained on 5 classes but the data set has 12"):
        train(tiny_config(tmp_path, run=IN_PROCESS), resume=True)


def test_resuming_with_another_architecture_is_a_clear_error(tmp_path):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 1}))
    with pytest.raises(TrainError, match="model differs from the checkpoint's: ngf 4 -> 8"):
        train(tiny_config(tmp_path, run=IN_PROCESS, model={"ngf": 8}), resume=True)


def test_a_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 3}))
    before = (tmp_path / CHECKPOINT_FILE).read_bytes()

    def disk_full(f, data):
        f.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "_write_all", disk_full)
    with pytest.raises(TrainError, match="disk is full.*previous checkpoint there, if any, is unchanged"):
        train(tiny_config(tmp_path, run=IN_PROCESS), resume=True)
    assert (tmp_path / CHECKPOINT_FILE).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_missing_vgg_weights_stop_the_run_at_start_up(tmp_path):
    missing = tmp_path / "vgg19.pth"
    with pytest.raises(TrainError) as caught:
        train(tiny_config(tmp_path / "run", run=IN_PROCESS, loss={"vgg": 10.0, "vgg_weights": str(missing)}))
    assert str(missing) in str(caught.value) and "--set loss.vgg=0" in str(caught.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("changes, message", [
    ({"data": {"length": 0}}, "procedural data set (train split) is empty"),
    ({"loss": {"vgg": 10.0, "vgg_weights": "/nonexistent/vgg19.pth"}}, "VGG19 weights for the perceptual loss not found"),
    ({"run": {"checkpoint_evry": 3}}, "unknown setting run.checkpoint_evry; the keys of [run] are: run_dir, seed"),
])
def test_the_command_prints_errors_as_messages_with_status_2(tmp_path, capsys, changes, message):
    values = tiny_values(tmp_path / "run", run=IN_PROCESS)
    for section, table in changes.items():
        values[section].update(table)
    status = main(["--config", str(write_toml(tmp_path / "c.toml", values))])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("clvae train: error: ") and message in err and "Traceback" not in err


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    for words in ("--config", "--resume", "--set", "short for --set run.max_iterations", "[optim]",
                  "lr_preset", "ema_decay", "checkpoint_every", "torchrun"):
        assert words in out


def test_resume_without_a_config_uses_the_one_saved_in_the_checkpoint(tmp_path, capsys):
    config = write_toml(tmp_path / "c.toml", tiny_values(tmp_path / "run", run={**IN_PROCESS, "max_iterations": 2}))
    assert main(["--config", str(config)]) == 0
    assert main(["--run-dir", str(tmp_path / "run"), "--resume", "--iterations", "0"]) == 0
    assert read_checkpoint(tmp_path / "run" / CHECKPOINT_FILE).iteration == 8
    assert main(["--run-dir", str(tmp_path / "elsewhere"), "--resume"]) == 2
    assert "--resume without --config needs a checkpoint" in capsys.readouterr().err


def test_diverged_weights_are_never_saved(tmp_path):
    with pytest.raises(TrainError, match="training diverged: .* nothing was saved"):
        train(tiny_config(tmp_path, run=IN_PROCESS, optim={"lr_G": 1e38, "lr_D": 1e38}))
    assert not (tmp_path / CHECKPOINT_FILE).exists()


def test_a_resumed_run_keeps_its_schedule_and_says_so(tmp_path, capsys):
    train(tiny_config(tmp_path, run={**IN_PROCESS, "max_iterations": 2}))
    result = train(tiny_config(tmp_path, run=IN_PROCESS, optim={"niter": 40, "lr_G": 1.0}), resume=True)
    assert result.iteration == 8  # the checkpoint's 4 + 4 iterations, not 40 + 4
    note = "keeps its checkpoint's schedule (4, 4) (iterations) and learning rates (0.0001, 0.0004)"
    assert note in capsys.readouterr().out


def test_a_warm_start_begins_from_the_model_file_and_checks_it_fits(tmp_path):
    train(tiny_config(tmp_path / "first", run={**IN_PROCESS, "max_iterations": 2}))
    weights = tmp_path / "first" / MODEL_FILE
    frozen = {"lr_G": 1e-30, "lr_D": 1e-30}  # one step that moves nothing visible
    train(tiny_config(tmp_path / "warm", run={**IN_PROCESS, "max_iterations": 1, "init_from": str(weights)},
                      optim=frozen))
    start = dict(load_synthesizer(weights).named_parameters())  # not spectral norm's power-iteration vectors
    after = dict(load_synthesizer(tmp_path / "warm" / MODEL_FILE).named_parameters())
    assert all(torch.allclose(after[k], start[k], atol=1e-6) for k in start)
    fresh = tiny_config(tmp_path / "fresh", run={**IN_PROCESS, "max_iterations": 1}, optim=frozen)
    train(fresh)
    fresh_start = dict(load_synthesizer(tmp_path / "fresh" / MODEL_FILE).named_parameters())
    assert not all(torch.allclose(fresh_start[k], start[k], atol=1e-6) for k in start)

    with pytest.raises(TrainError, match=r"model differs from run.init_from .*'s: ngf 4 -> 8"):
        train(tiny_config(tmp_path / "wider", model={"ngf": 8}, run={**IN_PROCESS, "init_from": str(weights)}))
    with pytest.raises(TrainError, match=r"run.init_from: .*first is not a file; did you mean .*model.safetensors\?"):
        train(tiny_config(tmp_path / "dir", run={**IN_PROCESS, "init_from": str(tmp_path / "first")}))
    with pytest.raises(TrainError, match="run.init_from: .*is a training checkpoint"):
        train(tiny_config(tmp_path / "wrong", run={**IN_PROCESS, "init_from": str(tmp_path / "first" / CHECKPOINT_FILE)}))
