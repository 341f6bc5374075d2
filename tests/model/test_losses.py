import math

import torch

from clvae.losses import (
    feature_matching, gaussian_kl, hinge_discriminator, hinge_generator, kl_divergence, locality_loss,
)
from clvae.model.codes import Codes
from clvae.model.encoder import Posterior


def kl_by_hand(mu: float, logvar: float) -> float:
    return 0.5 * (mu * mu + math.exp(logvar) - 1 - logvar)


def test_gaussian_kl_matches_closed_form():
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.2, -0.3]])
    expected = kl_by_hand(0.5, 0.2) + kl_by_hand(-1.0, -0.3)
    assert math.isclose(float(gaussian_kl(mu, logvar)[0]), expected, rel_tol=1e-6)


def test_eq18_normalises_class_terms_by_classes_present():
    # image 0 has classes {0, 1}, image 1 has {2}; one code layer, two dimensions
    present = torch.tensor([[True, True, False], [False, False, True]])
    z_mu, z_lv = torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2)
    mu = torch.zeros(2, 3, 2)
    mu[0, 0] = torch.tensor([1.0, 1.0])
    mu[0, 1] = torch.tensor([2.0, 0.0])
    mu[1, 2] = torch.tensor([0.0, 3.0])
    mu[1, 0] = torch.tensor([5.0, 5.0])  # absent class: must not count
    logvar = torch.zeros(2, 3, 2)
    valid = present.clone()
    posterior = Posterior(Codes(z_mu, {1: mu}, present), Codes(z_lv, {1: logvar}, present), {1: valid})
    global_part = 0.5 * 1.0  # KL of z_1 of image 0; image 1's is zero
    image0 = (0.5 * 2.0 + 0.5 * 4.0) / 2  # two classes present
    image1 = 0.5 * 9.0 / 1  # one class present
    assert math.isclose(float(kl_divergence(posterior)), global_part + image0 + image1, rel_tol=1e-6)


def test_hinge_losses():
    real = [[torch.zeros(1), torch.tensor([2.0, 0.0])]]
    fake = [[torch.zeros(1), torch.tensor([-3.0, 1.0])]]
    # real: relu(1-2)=0, relu(1-0)=1 -> 0.5 ; fake: relu(1-3)=0, relu(1+1)=2 -> 1.0
    assert math.isclose(float(hinge_discriminator(real, fake)), 1.5)
    assert math.isclose(float(hinge_generator(fake)), 1.0)


def test_feature_matching_ignores_predictions_and_divides_by_scales():
    real = [[torch.zeros(4), torch.zeros(1)], [torch.ones(4), torch.zeros(1)]]
    fake = [[torch.ones(4), torch.full((1,), 9.0)], [torch.ones(4), torch.full((1,), 9.0)]]
    assert math.isclose(float(feature_matching(fake, real)), (1.0 + 0.0) / 2)


def test_locality_counts_only_the_pixels_outside():
    fake = torch.zeros(1, 3, 4, 4)
    redrawn = fake.clone()
    redrawn[..., :2] = 1.0  # the left half changed
    outside = torch.zeros(1, 1, 4, 4)
    outside[..., 2:] = 1.0  # only the right half may not change
    assert locality_loss(redrawn, fake, outside) == 0
    outside[..., 1:] = 1.0  # now one changed column is outside too: 4 of 12 pixels
    assert torch.isclose(locality_loss(redrawn, fake, outside), torch.tensor(4 / 12))


def test_locality_pulls_only_the_redrawn_render():
    fake = torch.zeros(1, 3, 2, 2, requires_grad=True)
    redrawn = torch.ones(1, 3, 2, 2, requires_grad=True)
    locality_loss(redrawn, fake, torch.ones(1, 1, 2, 2)).backward()
    assert fake.grad is None and redrawn.grad.abs().sum() > 0
