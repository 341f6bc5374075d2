import numpy as np
import pytest
import torch

from clvae.model.codes import Codes, CodesError
from tests.conftest import tiny_config


def prior(cfg, batch=2, seed=0):
    present = torch.ones(batch, cfg.num_classes, dtype=torch.bool)
    return Codes.prior(cfg, present, torch.Generator().manual_seed(seed))


def test_prior_shapes_fit_the_model():
    cfg = tiny_config()
    codes = prior(cfg)
    codes.check(cfg)
    assert codes.z_global.shape == (2, cfg.z_dim)
    assert sorted(codes.layers) == [1, 2, 3, 4, 5]
    assert codes.layers[1].shape == (2, cfg.num_classes, cfg.code_channels)


def test_array_round_trip():
    cfg = tiny_config()
    codes = prior(cfg)
    arrays = codes.to_arrays()
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    back = Codes.from_arrays(arrays)
    back.check(cfg)
    for name, tensor in codes.tensors().items():
        assert torch.equal(tensor, back.tensors()[name])
    assert torch.equal(codes.present, back.present)


def test_mix_replaces_only_chosen_classes_and_layers():
    cfg = tiny_config()
    a, b = prior(cfg, seed=0), prior(cfg, seed=1)
    mixed = a.mix(b, classes=[2], layers=[1, 3])
    assert torch.equal(mixed.layers[1][:, 2], b.layers[1][:, 2])
    assert torch.equal(mixed.layers[3][:, 2], b.layers[3][:, 2])
    assert torch.equal(mixed.layers[2], a.layers[2])
    assert torch.equal(mixed.layers[1][:, [0, 1, 3, 4]], a.layers[1][:, [0, 1, 3, 4]])
    assert torch.equal(mixed.z_global, a.z_global)
    half = a.mix(b, classes=[0], weight=0.5)
    torch.testing.assert_close(half.layers[4][:, 0], (a.layers[4][:, 0] + b.layers[4][:, 0]) / 2)


def test_select_and_cat():
    cfg = tiny_config()
    codes = prior(cfg, batch=3)
    parts = [codes.select(i) for i in range(3)]
    assert parts[1].batch_size == 1
    joined = Codes.cat(parts)
    assert torch.equal(joined.layers[2], codes.layers[2])


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda c: c.layers.pop(5), "layers"),
        (lambda c: c.layers.__setitem__(1, torch.zeros(2, 3, 5)), "shape"),
        (lambda c: c.z_global.__setitem__((0, 0), float("nan")), "NaN"),
    ],
)
def test_check_rejects_codes_from_another_model_or_nan(spoil, message):
    cfg = tiny_config()
    codes = prior(cfg)
    spoil(codes)
    with pytest.raises(CodesError, match=message):
        codes.check(cfg)


def test_codes_for_another_class_count_are_rejected():
    with pytest.raises(CodesError, match="classes"):
        prior(tiny_config(classes=6)).check(tiny_config(classes=5))


def test_from_arrays_rejects_malformed_input():
    with pytest.raises(CodesError, match="present"):
        Codes.from_arrays({"z_global": np.zeros((1, 8))})
    with pytest.raises(CodesError, match="bad code array"):
        Codes.from_arrays({"present": np.ones((1, 5), bool), "layer_x": np.zeros((1, 5, 5))})


def test_an_anchor_travels_through_arrays_slices_and_cat():
    cfg = tiny_config()
    base, edited = prior(cfg, seed=0), prior(cfg, seed=1)
    codes = edited.anchored_to(base)
    back = Codes.from_arrays(codes.to_arrays())
    back.check(cfg)
    assert set(codes.to_arrays()) == set(base.to_arrays()) | {f"anchor_{n}" for n in base.to_arrays()}
    assert torch.equal(back.anchor.layers[3], base.layers[3]) and back.anchor.anchor is None
    assert torch.equal(back.select(1).anchor.z_global, base.z_global[1:])
    mixed = Codes.cat([codes.select(0), base.select(1)])  # an image without an anchor is its own
    assert torch.equal(mixed.anchor.layers[2], base.layers[2])
    assert Codes.cat([base.select(0), base.select(1)]).anchor is None


def test_a_chain_of_edits_keeps_the_first_anchor_and_plain_drops_it():
    cfg = tiny_config()
    first, second, third = (prior(cfg, seed=s) for s in range(3))
    chained = third.anchored_to(second.anchored_to(first))
    assert torch.equal(chained.anchor.z_global, first.z_global)
    assert chained.plain().anchor is None


@pytest.mark.parametrize("spoil, message", [
    (lambda c: setattr(c.anchor, "anchor", c.plain()), "an anchor has no anchor"),
    (lambda c: setattr(c, "anchor", c.anchor.select(0)), "the anchor is for 1 images, the codes for 2"),
    (lambda c: c.anchor.layers[2].__setitem__((0, 0, 0), float("inf")), "anchor: codes hold NaN"),
])
def test_check_rejects_bad_anchors(spoil, message):
    cfg = tiny_config()
    codes = prior(cfg, seed=1).anchored_to(prior(cfg, seed=0))
    spoil(codes)
    with pytest.raises(CodesError, match=message):
        codes.check(cfg)
