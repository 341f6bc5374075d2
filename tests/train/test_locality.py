"""The locality term's inputs: one present class re-drawn per image, anchored, and the
pixels beyond the margin around it."""

import torch

from clvae.model import Synthesizer
from clvae.model.encoder import present_classes
from clvae.train.locality import outside_region, redraw_one_class
from tests.conftest import blocky_labels, tiny_config


def test_redraw_replaces_one_present_class_at_every_layer():
    cfg = tiny_config("clvae", height=32, width=64, classes=5, encoder_size=32, encoder_layers=3)
    label = blocky_labels(4, 32, 64, 5, seed=3)
    codes = Synthesizer(cfg).prior(label, torch.Generator().manual_seed(0))
    redrawn, chosen = redraw_one_class(codes, torch.Generator().manual_seed(1))
    assert redrawn.anchor is not None and torch.equal(redrawn.anchor.layers[1], codes.layers[1])
    assert torch.equal(redrawn.z_global, codes.z_global)
    present = present_classes(label, 5)
    for b in range(4):
        assert present[b, chosen[b]]
        for layer in cfg.code_layers:
            changed = (redrawn.layers[layer][b] != codes.layers[layer][b]).any(dim=-1)
            assert changed.nonzero().flatten().tolist() == [int(chosen[b])]


def test_redraw_picks_among_the_present_classes_only():
    cfg = tiny_config("clvae", height=32, width=64, classes=5, encoder_size=32, encoder_layers=3)
    label = torch.full((1, 32, 64), 4)
    label[:, :16] = 2
    codes = Synthesizer(cfg).prior(label, torch.Generator().manual_seed(0))
    picks = {int(redraw_one_class(codes, torch.Generator().manual_seed(seed))[1]) for seed in range(20)}
    assert picks == {2, 4}


def test_outside_region_leaves_the_margin_free():
    label = torch.zeros(1, 1, 10, dtype=torch.long)
    label[..., 4:6] = 3
    outside = outside_region(label, torch.tensor([3]), margin=2)
    assert outside.shape == (1, 1, 1, 10)
    assert outside.flatten().tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 1, 1]
    assert outside_region(label, torch.tensor([3]), margin=0).flatten().tolist() == [1, 1, 1, 1, 0, 0, 1, 1, 1, 1]
