"""Anchored normalisation: instance norm that reuses an earlier pass's statistics."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from clvae.model import Synthesizer
from clvae.model.anchor import AnchorableInstanceNorm, anchored
from tests.conftest import blocky_labels, tiny_config


def test_its_own_mode_is_instance_norm_with_no_state():
    norm, reference = AnchorableInstanceNorm(6), nn.InstanceNorm2d(6, affine=False)
    x = torch.randn(2, 6, 5, 7)
    torch.testing.assert_close(norm(x), reference(x))
    assert not norm.state_dict()  # published and saved weights load unchanged


def test_reused_statistics_make_the_norm_pixelwise():
    norm = AnchorableInstanceNorm(3)
    x = torch.randn(1, 3, 8, 8)
    changed = x.clone()
    changed[..., 2, 5] += 4.0
    own = (norm(changed) - norm(x)).abs().sum(1)[0]
    assert (own > 1e-4).sum() > 1  # the statistics moved: every pixel moved
    norm.mode = "record"
    recorded = norm(x)
    norm.mode = "reuse"
    reused = (norm(changed) - recorded).abs().sum(1)[0]
    assert reused[2, 5] > 1 and (reused > 1e-6).sum() == 1


def test_only_instance_norm_generators_have_anchorable_norms():
    def count(norm_G: str) -> int:
        return sum(isinstance(m, AnchorableInstanceNorm) for m in Synthesizer(tiny_config(norm_G=norm_G)).modules())
    assert count("instance") > 0 and count("batch") == 0


@pytest.fixture
def model_label_codes():
    model = Synthesizer(tiny_config()).eval()
    label = blocky_labels(1, 64, 64, 5)
    return model, label, [model.prior(label, torch.Generator().manual_seed(s)) for s in (1, 2)]


def test_codes_anchored_to_themselves_render_unchanged(model_label_codes):
    model, label, (codes, _) = model_label_codes
    with torch.inference_mode():
        torch.testing.assert_close(model(label, codes.anchored_to(codes)), model(label, codes), rtol=0, atol=1e-5)


def test_anchored_codes_render_differently_and_leave_the_model_as_it_was(model_label_codes):
    model, label, (codes, other) = model_label_codes
    with torch.inference_mode():
        plain = model(label, other)
        anchored_render = model(label, other.anchored_to(codes))
        after = model(label, other)
    assert (anchored_render - plain).abs().max() > 1e-3
    torch.testing.assert_close(after, plain, rtol=0, atol=0)


def test_an_anchored_render_takes_gradients(model_label_codes):
    model, label, (codes, other) = model_label_codes
    model(label, other.anchored_to(codes)).square().mean().backward()
    assert model.generator.fc.weight.grad is not None


def test_the_norms_are_reset_when_the_render_fails_and_anchors_do_not_nest(model_label_codes):
    model, label, (codes, _) = model_label_codes
    with pytest.raises(RuntimeError, match="boom"), anchored(model.generator, label, codes):
        raise RuntimeError("boom")
    assert all(m.mode == "own" and m.recorded is None for m in model.modules() if isinstance(m, AnchorableInstanceNorm))
    with anchored(model.generator, label, codes):
        with pytest.raises(RuntimeError, match="one anchored render at a time"):
            with anchored(model.generator, label, codes):
                pass
