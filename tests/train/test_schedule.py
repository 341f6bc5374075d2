"""The learning rate: constant for niter, then linear to zero over niter_decay."""

from __future__ import annotations

import pytest
import torch

from clvae.train.schedule import LinearDecay, linear_decay_scheduler, schedule_iterations


def test_factor_is_constant_then_decays_linearly_to_zero():
    factor = LinearDecay(constant=3, decay=4)
    assert [factor(i) for i in range(8)] == [1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]


def test_scheduler_steps_every_iteration_and_survives_a_state_dict_round_trip():
    def make():
        optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=4e-4)
        return optimizer, linear_decay_scheduler(optimizer, 2, 2)

    optimizer, scheduler = make()
    seen = []
    for _ in range(4):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert seen == pytest.approx([4e-4, 4e-4, 4e-4, 2e-4])
    assert optimizer.param_groups[0]["lr"] == 0.0

    other_optimizer, other = make()
    other.load_state_dict(scheduler.state_dict())
    assert other.last_epoch == 4 and other.lr_lambdas[0].__dict__ == {"constant": 2, "decay": 2}


def test_epochs_scale_by_the_epoch_length():
    assert schedule_iterations("epochs", 100, 50, batches_per_epoch=10) == (1000, 500)
    assert schedule_iterations("iterations", 100, 50, batches_per_epoch=10) == (100, 50)
