"""One iteration of every variant: finite losses, and G, E and D all move."""

from __future__ import annotations

import pytest
import torch

from clvae.config import VARIANTS
from clvae.losses import LossWeights
from clvae.model import MultiscaleDiscriminator, Synthesizer
from clvae.train.precision import choose_precision
from clvae.train.steps import SynthesisStep, Updates, train_step
from tests.conftest import blocky_labels, tiny_config


def snapshot(module):
    return {name: p.detach().clone() for name, p in module.named_parameters()}


def moved(before, module):
    return {name for name, p in module.named_parameters() if not torch.equal(before[name], p)}


def plain_updates(synthesizer, critic, synthesis, weights):
    """Adam for G/E and D, float32 on the CPU, no VGG network."""
    precision = choose_precision("auto", torch.device("cpu"))
    return Updates(
        synthesis=synthesis, critic=critic, frozen_critic=critic,
        optimizer_G=torch.optim.Adam(synthesizer.parameters(), 1e-3, betas=(0.0, 0.9)),
        optimizer_D=torch.optim.Adam(critic.parameters(), 1e-3, betas=(0.0, 0.9)),
        scaler_G=precision.grad_scaler(), scaler_D=precision.grad_scaler(),
        precision=precision, weights=weights, vgg=None,
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_one_iteration_updates_every_network(variant):
    cfg = tiny_config(variant, height=32, width=64, classes=4, encoder_size=32, encoder_layers=3, num_D=1,
                      n_layers_D=2)
    synthesizer, critic = Synthesizer(cfg), MultiscaleDiscriminator(cfg)
    updates = plain_updates(synthesizer, critic, SynthesisStep(synthesizer), LossWeights(vgg=0.0))
    label = blocky_labels(2, 32, 64, 4)
    image = torch.rand(2, 3, 32, 64) * 2 - 1
    before_G, before_D = snapshot(synthesizer), snapshot(critic)

    losses = train_step(updates, image, label, torch.Generator().manual_seed(0))

    assert all(torch.isfinite(v) for v in losses.values())
    expected = {"G/gan", "G/fm", "D/hinge"} | ({"G/kl"} if cfg.uses_encoder else set())
    assert set(losses) == expected
    changed_G = moved(before_G, synthesizer)
    assert any(n.startswith("generator.") for n in changed_G)
    assert any(n.startswith("encoder.") for n in changed_G) == cfg.uses_encoder
    assert moved(before_D, critic) == set(before_D)  # every D weight gets a gradient
    assert all(p.requires_grad for p in critic.parameters())  # unfrozen after G's update


def test_the_locality_term_joins_the_generator_losses():
    cfg = tiny_config("clvae", height=32, width=64, classes=4, encoder_size=32, encoder_layers=3, num_D=1,
                      n_layers_D=2)
    synthesizer, critic = Synthesizer(cfg), MultiscaleDiscriminator(cfg)
    updates = plain_updates(synthesizer, critic, SynthesisStep(synthesizer, locality_margin=1),
                            LossWeights(vgg=0.0, locality=5.0))
    label = blocky_labels(2, 32, 64, 4)
    losses = train_step(updates, torch.rand(2, 3, 32, 64) * 2 - 1, label, torch.Generator().manual_seed(0))
    assert set(losses) == {"G/gan", "G/fm", "G/kl", "G/locality", "D/hinge"}
    assert torch.isfinite(losses["G/locality"]) and losses["G/locality"] > 0
    norms = [m for m in synthesizer.modules() if hasattr(m, "mode")]
    assert norms and all(m.mode == "own" and m.recorded is None for m in norms)  # the anchored render was undone
