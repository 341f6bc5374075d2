"""AMP settings: float32 on the CPU whatever is asked; loss scaling only for fp16."""

from __future__ import annotations

import pytest
import torch

from clvae.train.precision import Precision, choose_precision


@pytest.mark.parametrize("amp", ["auto", "off"])
def test_the_cpu_trains_in_float32(amp):
    precision = choose_precision(amp, torch.device("cpu"))
    assert precision.dtype is None and precision.name == "float32"
    assert not precision.grad_scaler().is_enabled()


def test_asking_for_half_precision_on_the_cpu_warns():
    with pytest.warns(UserWarning, match="CUDA only"):
        assert choose_precision("bf16", torch.device("cpu")).dtype is None


@pytest.mark.filterwarnings("ignore:torch.cuda.amp.GradScaler is enabled, but CUDA is not available")
def test_only_fp16_scales_losses():
    assert Precision(torch.float16, "cuda").grad_scaler().is_enabled() == torch.cuda.is_available()
    assert not Precision(torch.bfloat16, "cuda").grad_scaler().is_enabled()
