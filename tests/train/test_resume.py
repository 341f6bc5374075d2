"""A run killed with SIGKILL and resumed ends exactly where an uninterrupted run does;
SIGTERM stops a run cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch

from clvae.checkpoint import load_checkpoint
from clvae.train.state import CHECKPOINT_FILE, MODEL_FILE, read_checkpoint
from tests.train.helpers import REPO, python_env, run_module, tiny_values, write_toml

KILL_AFTER = "iteration 5/8"


def signal_when_logged(args: list[str], line_start: str, signum: int) -> tuple[int, str]:
    """Run ``python -m clvae.train ARGS``, send ``signum`` to its whole process group (as a
    terminal or a job scheduler does) once it prints ``line_start``; returns its exit
    status and output."""
    child = subprocess.Popen([sys.executable, "-m", "clvae.train", *args], cwd=REPO, env=python_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    output = []
    try:
        for line in child.stdout:
            output.append(line)
            if line.startswith(line_start):
                os.killpg(child.pid, signum)
                break
        output += child.stdout.readlines()
        child.wait(timeout=60)
    finally:
        child.kill()
        child.wait()
    return child.returncode, "".join(output)


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path):
    config = str(write_toml(tmp_path / "tiny.toml", tiny_values(tmp_path / "unused", optim={"ema_decay": 0.5})))
    straight, killed = tmp_path / "straight", tmp_path / "killed"

    done = run_module("--config", config, "--run-dir", str(straight))
    assert done.returncode == 0, done.stderr
    status, _ = signal_when_logged(["--config", config, "--run-dir", str(killed)], KILL_AFTER, signal.SIGKILL)
    assert status == -signal.SIGKILL, "the run ended before it could be killed"
    assert read_checkpoint(killed / CHECKPOINT_FILE).iteration in (3, 6)  # checkpoint_every = 3
    resumed = run_module("--config", config, "--run-dir", str(killed), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stdout

    for name in (CHECKPOINT_FILE, MODEL_FILE):
        expected, _ = load_checkpoint(straight / name)
        found, meta = load_checkpoint(killed / name)
        assert found.keys() == expected.keys()
        for key, tensor in expected.items():
            torch.testing.assert_close(found[key], tensor, rtol=1e-5, atol=1e-6, msg=f"{name}: {key}")
    assert read_checkpoint(killed / CHECKPOINT_FILE).iteration == 8


@pytest.mark.parametrize("workers", [0, 1])
def test_sigterm_stops_after_the_iteration_with_a_checkpoint(tmp_path, workers):
    values = tiny_values(tmp_path / "run", run={"checkpoint_every": 100}, data={"num_workers": workers})
    config = str(write_toml(tmp_path / "tiny.toml", values))
    status, output = signal_when_logged(["--config", config], "iteration 2/8", signal.SIGTERM)
    assert status == 0
    iteration = read_checkpoint(tmp_path / "run" / CHECKPOINT_FILE).iteration
    assert 2 <= iteration < 8
    assert f"stopped at iteration {iteration}; continue with --run-dir" in output
