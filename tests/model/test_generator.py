import pytest
import torch

from clvae.config import VARIANTS
from clvae.model import MultiscaleDiscriminator, Synthesizer
from clvae.model.generator import block_conditioning, block_scales, describe_conditioning
from clvae.losses import LossWeights, generator_losses
from tests.conftest import blocky_labels, tiny_config

AUTHORS_TABLE = {
    "head_0": "layer 5", "G_middle_0": "layer 4", "G_middle_1": "layer 4",
    "up_0": "layer 3", "up_1": "layer 2", "up_2": "layer 1", "up_3": "mask",
}


def test_default_mapping_is_the_authors_table():
    assert describe_conditioning(tiny_config(height=256, width=256, encoder_size=256)) == AUTHORS_TABLE


def test_extra_block_options():
    mask = describe_conditioning(tiny_config(extra_blocks="mask"))
    assert mask["G_middle_1"] == "mask" and mask["up_3"] == "mask" and mask["G_middle_0"] == "layer 4"
    reuse = describe_conditioning(tiny_config(extra_blocks="reuse"))
    assert reuse["G_middle_1"] == "layer 4" and reuse["up_3"] == "layer 1"


def test_more_upsampling_and_fewer_encoder_layers():
    cfg = tiny_config(height=128, width=256, upsampling="more")
    assert block_scales(cfg) == [6, 5, 4, 3, 2, 1, 0]
    assert block_conditioning(cfg) == [5, 5, 4, 3, 2, 1, None]
    short = tiny_config(encoder_layers=3, encoder_size=64)  # Table 5's L = 3: layers 1, 2
    assert block_conditioning(short) == [2, 2, 2, 2, 2, 1, None]


def test_baselines_use_the_plain_mask_everywhere():
    for variant in ("gaugan", "gaugan_vae"):
        assert set(describe_conditioning(tiny_config(variant)).values()) == {"mask"}
    assert set(describe_conditioning(tiny_config("no_layerwise")).values()) == {"layer 3"}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size", [(64, 64), (64, 96)])
def test_forward_backward_every_variant(variant, size):
    height, width = size
    cfg = tiny_config(variant, height, width)
    model, disc = Synthesizer(cfg), MultiscaleDiscriminator(cfg)
    label = blocky_labels(2, height, width, cfg.num_classes)
    real = torch.rand(2, 3, height, width) * 2 - 1
    posterior = model.encode(real, label) if cfg.uses_encoder else None
    fake = model(label, posterior.sample() if posterior else None)
    assert fake.shape == (2, 3, height, width)
    assert fake.abs().max() <= 1
    features = disc(torch.cat([label, label]), torch.cat([fake, real]))
    fake_f = [[f[:2] for f in scale] for scale in features]
    real_f = [[f[2:] for f in scale] for scale in features]
    losses = generator_losses(fake_f, real_f, posterior, LossWeights())
    assert ("kl" in losses) == cfg.uses_encoder
    sum(losses.values()).backward()
    without_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert without_grad == []


def test_prior_codes_give_different_images_and_same_seed_same_image():
    cfg = tiny_config()
    model = Synthesizer(cfg).eval()
    label = blocky_labels(1, 64, 64, cfg.num_classes)
    first = model(label, model.prior(label, torch.Generator().manual_seed(1)))
    again = model(label, model.prior(label, torch.Generator().manual_seed(1)))
    other = model(label, model.prior(label, torch.Generator().manual_seed(2)))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)


def test_generator_without_codes_is_a_clear_error():
    cfg = tiny_config()
    with pytest.raises(ValueError, match="needs codes"):
        Synthesizer(cfg)(blocky_labels(1, 64, 64, cfg.num_classes))


def test_bf16_autocast_forward():
    cfg = tiny_config()
    model = Synthesizer(cfg)
    label = blocky_labels(1, 64, 64, cfg.num_classes)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        image = model(label, model.prior(label))
    assert image.shape == (1, 3, 64, 64) and torch.isfinite(image.float()).all()
