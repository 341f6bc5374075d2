"""A tiny model file, a daemon process serving it, and the same model in-process for
comparisons. Every daemon here is a real ``python -m daemon`` child on a free port."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch

from clvae.model import Synthesizer
from clvae.model_io import load_synthesizer, save_synthesizer
from daemon.launch import Child, free_port, start_daemon
from tests.conftest import tiny_config
from tests.edit.conftest import scene

MODEL_NAME = "tiny"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Running:
    child: Child
    endpoint: str


def daemon_args(model_file: Path, endpoint: str, *extra: str, where: str = "--endpoint") -> list[str]:
    """A daemon of the tiny model, as many torch threads as the tests (the same pixels need
    the same float reductions)."""
    return ["--model", f"{MODEL_NAME}={model_file}", where, endpoint, "--device", "cpu", "--verbose",
            "--threads", str(torch.get_num_threads()), *extra]


def local_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"


def assert_clean_log(child: Child) -> None:
    """No Python traceback anywhere in the daemon's stderr."""
    assert "Traceback" not in child.log(), child.log()[-4000:]


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_synthesizer(path, Synthesizer(tiny_config()).eval())
    return path


@pytest.fixture(scope="session")
def model(model_file) -> Synthesizer:
    """The daemon's model, loaded here for direct API calls."""
    return load_synthesizer(model_file)


@pytest.fixture(scope="session")
def daemon(model_file, tmp_path_factory) -> Iterator[Running]:
    """One daemon shared by the tests that do not stop it."""
    endpoint = local_endpoint()
    child = start_daemon(daemon_args(model_file, endpoint), endpoint, tmp_path_factory.mktemp("log") / "daemon.log")
    yield Running(child, endpoint)
    assert child.stop() == 0
    assert_clean_log(child)


def label_map(**size) -> np.ndarray:
    """A scene with every class, as uint8 (the protocol carries no int64)."""
    return scene(**size).astype(np.uint8)


@pytest.fixture
def label() -> np.ndarray:
    return label_map()
