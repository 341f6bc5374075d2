import torch

from clvae.model import MultiscaleDiscriminator
from tests.conftest import blocky_labels, tiny_config


def test_two_scales_four_layers_plus_prediction():
    cfg = tiny_config(ndf=8)
    disc = MultiscaleDiscriminator(cfg)
    features = disc(blocky_labels(2, 64, 64, cfg.num_classes), torch.rand(2, 3, 64, 64))
    assert len(features) == 2
    assert [len(scale) for scale in features] == [5, 5]
    assert [f.shape[1] for f in features[0]] == [8, 16, 32, 64, 1]
    assert features[1][0].shape[-1] < features[0][0].shape[-1]  # the second scale sees a smaller input


def test_spectral_norm_only_on_middle_layers():
    disc = MultiscaleDiscriminator(tiny_config()).discriminator_0
    names = [n for n, _ in disc.named_parameters()]
    assert not any("model0" in n and "parametrizations" in n for n in names)
    assert any("model1.0.parametrizations" in n for n in names)
    assert not any("model4" in n and "parametrizations" in n for n in names)
