import pytest
import torch

from clvae.model.encoder import Encoder, present_classes, roi_max_pool
from clvae.model.layers import resize_labels
from tests.conftest import blocky_labels, tiny_config


def reference_roi_max(features, label, num_classes):
    """Eq. 17 by hand: a Python loop over images and classes."""
    batch, channels = features.shape[:2]
    pooled = torch.zeros(batch, num_classes, channels)
    valid = torch.zeros(batch, num_classes, dtype=torch.bool)
    for b in range(batch):
        for c in range(num_classes):
            region = label[b] == c
            if region.any():
                pooled[b, c] = features[b][:, region].max(dim=1).values
                valid[b, c] = True
    return pooled, valid


def test_roi_max_pool_equals_per_class_maximum():
    features = torch.randn(2, 6, 7, 9)
    label = torch.randint(0, 5, (2, 7, 9))
    label[0][label[0] == 3] = 1  # class 3 absent from image 0
    label[1, 4, 4] = 4
    label[1][(label[1] == 4)] = 2
    label[1, 0, 0] = 4  # class 4 covers exactly one pixel of image 1
    pooled, valid = roi_max_pool(features, label, 5)
    expected, expected_valid = reference_roi_max(features, label, 5)
    assert torch.equal(valid, expected_valid)
    assert not valid[0, 3] and valid[1, 4]
    torch.testing.assert_close(pooled, expected)


def test_roi_max_pool_gradient_reaches_only_the_maxima():
    features = torch.randn(1, 2, 4, 4, requires_grad=True)
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[0, :, 2:] = 1
    pooled, _ = roi_max_pool(features, label, 2)
    pooled.sum().backward()
    assert int((features.grad != 0).sum()) == 4  # one maximum per (class, channel)


def test_class_that_vanishes_after_downsampling_gets_zero_posterior():
    cfg = tiny_config(classes=4, encoder_size=64, encoder_layers=5)
    encoder = Encoder(cfg)
    label = torch.zeros(1, 64, 64, dtype=torch.long)
    label[0, 1, 1] = 3  # one pixel: survives layer 1's nearest downsampling only at some offsets
    image = torch.rand(1, 3, 64, 64) * 2 - 1
    posterior = encoder(image, label)
    for layer, valid in posterior.valid.items():
        small = resize_labels(resize_labels(label, (64, 64)), (64 // 2**layer, 64 // 2**layer))
        assert bool(valid[0, 3]) == bool((small == 3).any())
        if not valid[0, 3]:
            assert torch.all(posterior.mu.layers[layer][0, 3] == 0)
            assert torch.all(posterior.logvar.layers[layer][0, 3] == 0)
    assert not all(bool(v[0, 3]) for v in posterior.valid.values())  # it did vanish somewhere


@pytest.mark.parametrize("variant, slots", [("clvae", 5), ("no_classwise", 1), ("no_layerwise", 5)])
def test_posterior_shapes(variant, slots):
    cfg = tiny_config(variant)
    posterior = Encoder(cfg)(torch.rand(2, 3, 64, 64), blocky_labels(2, 64, 64, 5))
    assert posterior.mu.z_global.shape == (2, cfg.z_dim)
    assert sorted(posterior.mu.layers) == list(cfg.code_layers)
    for code in posterior.mu.layers.values():
        assert code.shape == (2, slots, cfg.code_channels)
    assert posterior.sample().layers.keys() == posterior.mu.layers.keys()


def test_present_classes():
    label = torch.tensor([[[0, 2], [2, 2]], [[1, 1], [1, 1]]])
    assert present_classes(label, 3).tolist() == [[True, False, True], [False, True, False]]
