"""A training config small enough to run a few iterations in about a second on a CPU."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from clvae.train.config import TrainConfig, load_config
from clvae.train.settings import to_toml

REPO = Path(__file__).resolve().parents[2]

TINY: dict[str, dict[str, Any]] = {
    "data": {"kind": "procedural", "size": [32, 64], "length": 8, "num_workers": 0},
    "model": {"ngf": 4, "ndf": 4, "z_dim": 8, "encoder_layers": 3, "encoder_size": 32, "spade_hidden": 8,
              "num_D": 1, "n_layers_D": 2},
    "optim": {"batch_size": 2, "unit": "iterations", "niter": 4, "niter_decay": 4},
    "loss": {"vgg": 0.0},
    "run": {"device": "cpu", "deterministic": True, "checkpoint_every": 3, "log_every": 1, "image_every": 0},
}


def tiny_values(run_dir: Path, **sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """TINY writing to ``run_dir``, with ``sections``' keys changed."""
    values = copy.deepcopy(TINY)
    values["run"]["run_dir"] = str(run_dir)
    for name, changes in sections.items():
        values.setdefault(name, {}).update(changes)
    return values


def tiny_config(run_dir: Path, **sections: dict[str, Any]) -> TrainConfig:
    return load_config(tiny_values(run_dir, **sections))


def write_toml(path: Path, values: dict[str, dict[str, Any]]) -> Path:
    lines = []
    for section, table in values.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {to_toml(value)}" for key, value in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def python_env() -> dict[str, str]:
    """The environment for a child training process: unbuffered, one thread, this repo."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


def run_module(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m clvae.train ARGS`` in a child process."""
    return subprocess.run([sys.executable, "-m", "clvae.train", *args], cwd=REPO, env=python_env(),
                          capture_output=True, text=True, timeout=timeout)
