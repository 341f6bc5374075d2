"""Fixtures of the editing API's tests: one tiny random model, one label map."""

from __future__ import annotations

import numpy as np
import pytest

from clvae.model import Synthesizer
from tests.edit.helpers import make_model, scene


@pytest.fixture(scope="session")
def model() -> Synthesizer:
    return make_model()


@pytest.fixture
def label() -> np.ndarray:
    return scene()
