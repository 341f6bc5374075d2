"""Training tests run torch on one thread: tiny models gain nothing from more, and on a
busy machine threads waiting on each other make them many times slower."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
