"""torchrun with two CPU processes (gloo): both train, rank 0 alone writes."""

from __future__ import annotations

import socket
import subprocess
import sys

from clvae.train.state import CHECKPOINT_FILE, MODEL_FILE, read_checkpoint
from tests.train.helpers import REPO, python_env, tiny_values, write_toml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_processes_on_gloo(tmp_path):
    run_dir = tmp_path / "run"
    values = tiny_values(run_dir, run={"checkpoint_every": 100, "log_every": 100}, data={"length": 16})
    config = write_toml(tmp_path / "tiny.toml", values)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}",
               "-m", "clvae.train", "--config", str(config)]
    done = subprocess.run(command, cwd=REPO, env=python_env(), capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stderr[-3000:]  # torchrun fails if any rank fails
    assert "2 process(es) on cpu" in done.stdout
    assert done.stdout.count("training clvae") == 1  # rank 0 alone reports
    assert done.stdout.count("saved iteration 8") == 1  # and saves, once, at the end
    assert sorted(p.name for p in run_dir.iterdir() if "tfevents" not in p.name) == [CHECKPOINT_FILE, MODEL_FILE]
    saved = read_checkpoint(run_dir / CHECKPOINT_FILE)
    assert saved.iteration == 8 and saved.position.epoch == 2  # 16 images, 2 x 2 per iteration
