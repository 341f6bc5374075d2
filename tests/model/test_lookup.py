"""The lookup path of SPADE's first convolution equals the dense convolution (issue 9):
one convolution and whole generators, outputs and gradients, every variant."""

import pytest
import torch
import torch.nn.functional as F

from clvae.config import VARIANTS
from clvae.model import Synthesizer
from clvae.model import generator as generator_module
from clvae.model.cse import CSE
from clvae.model.lookup import ClassMap, LabelStencil, uses_lookup
from tests.conftest import blocky_labels, tiny_config

CLASSES = 6


def awkward_labels(batch: int, height: int, width: int, classes: int = CLASSES, seed: int = 0) -> torch.Tensor:
    """Blocks touching the borders, 1-pixel classes, a 1-pixel-wide stripe, absent classes
    (the last class never appears), every sample different."""
    label = blocky_labels(batch, height, width, classes - 1, seed=seed, block=3)
    label[:, height // 3, width // 3] = 0  # 1-pixel regions (unless a neighbour is class 0 too)
    label[:, -1, -1] = 2
    label[:, height // 2, :] = 3  # a stripe one pixel high, touching both sides
    if batch > 1:
        label[1] = torch.randint(0, classes - 1, (height, width), generator=torch.Generator().manual_seed(seed))
    return label


def brute_force_boundary(label: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(B, h, w) bool: a 3x3 neighbourhood with two classes, or reaching outside."""
    padded = F.pad(label, (1, 1, 1, 1), value=num_classes)
    height, width = label.shape[1:]
    shifted = [padded[:, dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)]
    return torch.stack([s != label for s in shifted]).any(0)


def test_stencil_finds_exactly_the_boundary_pixels():
    label = awkward_labels(2, 7, 10)
    stencil = LabelStencil.of(label, CLASSES)
    boundary = brute_force_boundary(label, CLASSES)
    found = torch.zeros_like(boundary)
    found.view(-1)[stencil.boundary_index] = True
    assert torch.equal(found, boundary)
    for sample, pixels in zip(boundary, stencil.boundary_pixels):
        assert torch.equal(pixels, sample.view(-1).nonzero()[:, 0])
    assert torch.equal(stencil.interior_label, label.masked_fill(boundary, CLASSES))


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 10), (12, 5)])
@pytest.mark.parametrize("with_codes", [False, True], ids=["mask", "cse"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("channels_last", [False, True], ids=["contiguous", "channels_last"])
def test_one_convolution_and_its_gradients_equal_dense(size, with_codes, dtype, channels_last):
    """mlp_shared: ReLU(conv3x3(map)). Float32 gradients could differ at a pre-activation
    within rounding of 0 (not the case for these seeds); float64 checks them tightly."""
    label = awkward_labels(2, *size)
    in_channels = 4 if with_codes else CLASSES
    conv = torch.nn.Conv2d(in_channels, 8, 3, padding=1).to(dtype)
    values = torch.randn(2, CLASSES, in_channels, dtype=dtype, requires_grad=True) if with_codes else None
    class_map = ClassMap(LabelStencil.of(label, CLASSES), values)
    upstream = torch.randn(2, 8, *size, dtype=dtype)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    leaves = [conv.weight, conv.bias] + ([values] if with_codes else [])

    lookup = class_map.conv3x3_relu(conv, channels_last)
    lookup_grads = torch.autograd.grad((lookup * upstream).sum(), leaves)
    dense = F.relu(conv(class_map.dense(dtype)))
    dense_grads = torch.autograd.grad((dense * upstream).sum(), leaves)

    layout = torch.channels_last if channels_last else torch.contiguous_format
    assert lookup.is_contiguous(memory_format=layout) and lookup.dtype == dtype
    torch.testing.assert_close(lookup, dense, rtol=0, atol=tolerance)
    for got, want in zip(lookup_grads, dense_grads):
        torch.testing.assert_close(got, want, rtol=tolerance, atol=tolerance)


def paired_models(variant: str, height: int, width: int, dtype=torch.float32) -> tuple[Synthesizer, Synthesizer]:
    """The same random weights on the dense and on the lookup path."""
    dense = Synthesizer(tiny_config(variant, height, width, classes=CLASSES, spade_conv="dense")).to(dtype)
    lookup = Synthesizer(tiny_config(variant, height, width, classes=CLASSES, spade_conv="lookup")).to(dtype)
    lookup.load_state_dict(dense.state_dict())
    return dense, lookup


def prior_codes(model: Synthesizer, label: torch.Tensor, dtype=torch.float32):
    """Codes from a fixed seed, as fresh leaves that collect gradients."""
    if not model.cfg.uses_encoder:
        return None
    codes = model.prior(label, torch.Generator().manual_seed(1))
    return codes.map(lambda t: t.to(dtype).requires_grad_() if t.is_floating_point() else t)


def generator_pass(model: Synthesizer, label: torch.Tensor, upstream: torch.Tensor) -> tuple:
    """Image, and the gradients of <image, upstream> for every generator parameter and code."""
    codes = prior_codes(model, label, upstream.dtype)
    image = model(label, codes)
    (image * upstream).sum().backward()
    grads = {n: p.grad for n, p in model.generator.named_parameters()}
    if codes is not None:
        grads.update({f"codes {n}": t.grad for n, t in codes.tensors().items()})
    return image, grads


@pytest.mark.parametrize("variant", VARIANTS)
def test_whole_generator_equals_dense_in_float32(variant):
    dense, lookup = paired_models(variant, 64, 96)
    label = awkward_labels(2, 64, 96)
    with torch.no_grad():
        images = [model(label, prior_codes(model, label)) for model in (dense, lookup)]
    torch.testing.assert_close(images[1], images[0], rtol=0, atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_whole_generator_gradients_equal_dense(variant):
    """In float64: in float32, a pre-activation within rounding of a ReLU / LeakyReLU kink
    may take either side on either path, which changes some gradients by far more than
    rounding (seen: dense float32 itself 0.6% off its float64 values for no_classwise)."""
    height, width = 64, 96
    dense, lookup = paired_models(variant, height, width, torch.float64)
    label = awkward_labels(2, height, width)
    upstream = torch.randn(2, 3, height, width, dtype=torch.float64)

    dense_image, dense_grads = generator_pass(dense, label, upstream)
    lookup_image, lookup_grads = generator_pass(lookup, label, upstream)

    torch.testing.assert_close(lookup_image, dense_image, rtol=0, atol=1e-12)
    assert set(lookup_grads) == set(dense_grads)
    scale = max(grad.abs().max().item() for grad in dense_grads.values())
    for name, want in dense_grads.items():
        torch.testing.assert_close(lookup_grads[name], want, rtol=1e-9, atol=1e-11 * scale,
                                   msg=lambda text, name=name: f"{name}: {text}")


def mean_error(got: dict, want: dict) -> float:
    """Mean absolute difference over every gradient, in units of the largest one."""
    scale = max(grad.abs().max().item() for grad in want.values())
    total = sum((got[name].float() - grad).abs().sum().item() for name, grad in want.items())
    return total / sum(grad.numel() for grad in want.values()) / scale


@pytest.mark.parametrize("variant", ["clvae", "gaugan"])
def test_bf16_autocast_training_is_as_close_to_float32_as_dense(variant):
    dense, lookup = paired_models(variant, 64, 64)
    label = awkward_labels(2, 64, 64)
    upstream = torch.randn(2, 3, 64, 64)
    exact_image, exact_grads = generator_pass(dense, label, upstream)
    results = {}
    for name, model in (("dense", dense), ("lookup", lookup)):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            results[name] = generator_pass(model, label, upstream)
    (dense_image, dense_grads), (lookup_image, lookup_grads) = results["dense"], results["lookup"]
    assert lookup_image.dtype == dense_image.dtype
    assert all(torch.isfinite(grad).all() for grad in lookup_grads.values())
    image_errors = [(image.float() - exact_image).abs().mean() for image in (dense_image, lookup_image)]
    assert image_errors[1] < 1.5 * image_errors[0]  # seen: within 7% of each other
    assert mean_error(lookup_grads, exact_grads) < 1.5 * mean_error(dense_grads, exact_grads)  # seen: within 10%


def test_lookup_path_builds_no_dense_map(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("a dense conditioning map was built")

    monkeypatch.setattr(generator_module, "one_hot", forbidden)
    monkeypatch.setattr(CSE, "forward", forbidden)
    for variant in ("clvae", "gaugan_vae"):
        _, lookup = paired_models(variant, 64, 64)
        label = awkward_labels(1, 64, 64)
        lookup(label, lookup.prior(label))


def test_same_parameters_and_keys_on_both_paths():
    dense, lookup = paired_models("clvae", 64, 64)
    assert list(dense.state_dict()) == list(lookup.state_dict())


def test_spade_conv_choice():
    assert uses_lookup(tiny_config(spade_conv="lookup")) and not uses_lookup(tiny_config(spade_conv="dense"))
    assert tiny_config().spade_conv == "auto"
    assert uses_lookup(tiny_config(classes=151)) and uses_lookup(tiny_config("gaugan", classes=24))
    assert not uses_lookup(tiny_config(classes=12, ngf=12))  # the bundled model: even, auto stays dense
    assert not uses_lookup(tiny_config(classes=151, code_dim=8))
    assert uses_lookup(tiny_config(classes=5, ngf=64))
    with pytest.raises(ValueError, match="spade_conv 'sparse' is not dense, lookup or auto"):
        tiny_config(spade_conv="sparse")
