"""AlexNet, LPIPS and FID Inception: official keys and shapes, loading from local files,
clear errors for missing or wrong files."""

import pickle
from pathlib import Path

import pytest
import safetensors.torch
import torch

from clvae.eval.backbones import (
    AlexNetFeatures, BadWeightsError, FIDInception, LPIPS, MissingWeightsError, load_alexnet, load_fid_inception,
    load_lpips,
)
from clvae.eval.backbones.inception import pool
from tests.eval.helpers import ALEXNET_CONVS, LPIPS_HEADS, inception_convs, inception_state

BN_BUFFERS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
# torchvision Inception3 (27,161,264 parameters) without its aux head (3,326,696) and fc (2,049,000).
FID_INCEPTION_PARAMETERS = 21_785_568


def shapes(module: torch.nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_alexnet_keys_are_torchvision_features():
    expected = {f"features.{i}.weight": s for i, s in ALEXNET_CONVS.items()}
    expected |= {f"features.{i}.bias": s[:1] for i, s in ALEXNET_CONVS.items()}
    assert shapes(AlexNetFeatures()) == expected


def test_lpips_heads_keys_are_the_official_files():
    assert shapes(LPIPS().heads) == LPIPS_HEADS
    assert set(LPIPS().state_dict()) == {f"net.{k}" for k in AlexNetFeatures().state_dict()} | {
        f"heads.{k}" for k in LPIPS_HEADS}


def test_inception_keys_and_shapes_are_pytorch_fids():
    expected = {}
    for name, shape in inception_convs().items():
        expected[f"{name}.conv.weight"] = shape
        expected |= {f"{name}.bn.{b}": () if b == "num_batches_tracked" else shape[:1] for b in BN_BUFFERS}
    model = FIDInception()
    assert shapes(model) == expected
    assert sum(p.numel() for p in model.parameters()) == FID_INCEPTION_PARAMETERS


def test_inception_loads_official_layout_with_or_without_counters(tmp_path):
    state = inception_state()
    for counters in (False, True):
        path = tmp_path / f"inception{counters}.pth"
        torch.save(inception_state(counters=counters), path)
        model = load_fid_inception(path)
        assert torch.equal(model.Mixed_7c.branch3x3dbl_3b.conv.weight, state["Mixed_7c.branch3x3dbl_3b.conv.weight"])
        assert torch.equal(model.Conv2d_1a_3x3.bn.bias, state["Conv2d_1a_3x3.bn.bias"])


def test_inception_gives_pool3_features_at_any_input_size(weight_files):
    model = load_fid_inception(weight_files["inception"])
    images = torch.rand(2, 3, 40, 56)
    features = model(images)
    assert features.shape == (2, 2048) and torch.isfinite(features).all() and features.abs().sum() > 0
    resized = torch.nn.functional.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
    assert torch.allclose(model(resized), features, atol=1e-5)


def test_inception_average_pools_leave_padding_out():
    """TensorFlow's average pool, which FID's Inception uses: a constant map stays constant."""
    constant = torch.full((1, 1, 5, 5), 3.0)
    assert torch.equal(pool(constant, "avg"), constant)


def test_lpips_of_identical_images_is_zero_with_any_weights(weight_files):
    torch.manual_seed(0)
    images = torch.rand(3, 3, 48, 48) * 2 - 1
    for model in (LPIPS(), load_lpips(weight_files["lpips"], weight_files["alexnet"])):
        assert torch.equal(model(images, images), torch.zeros(3))


def test_lpips_is_a_symmetric_positive_distance(weight_files):
    model = load_lpips(weight_files["lpips"], weight_files["alexnet"])
    a, b = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    assert (model(a, b) > 0).all()
    assert torch.allclose(model(a, b), model(b, a))


def test_lpips_weights_land_where_they_belong(weight_files):
    model = load_lpips(weight_files["lpips"], weight_files["alexnet"])
    heads = torch.load(weight_files["lpips"], weights_only=True)
    alexnet = torch.load(weight_files["alexnet"], weights_only=True)
    assert torch.equal(model.heads.lin2.model[1].weight, heads["lin2.model.1.weight"])
    assert torch.equal(model.net.features[8].weight, alexnet["features.8.weight"])
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_safetensors_copies_load(weight_files, tmp_path):
    path = tmp_path / "alexnet.safetensors"
    safetensors.torch.save_file(torch.load(weight_files["alexnet"], weights_only=True), str(path))
    assert torch.equal(load_alexnet(path).features[0].bias, load_alexnet(weight_files["alexnet"]).features[0].bias)


def test_defaults_come_from_env_then_hub_cache(weight_files, no_default_weights, monkeypatch):
    with pytest.raises(MissingWeightsError):
        load_alexnet()
    cached = no_default_weights / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    cached.parent.mkdir(parents=True)
    cached.symlink_to(weight_files["alexnet"])
    load_alexnet()
    monkeypatch.setenv("CLVAE_FID_INCEPTION", str(weight_files["inception"]))
    load_fid_inception()


def test_missing_lpips_names_both_files_and_every_path(no_default_weights):
    with pytest.raises(MissingWeightsError) as info:
        load_lpips()
    message = str(info.value)
    for name in ("clvae_lpips_alex.pth", "clvae_alexnet.pth", "lpips_v0.1_alex.pth", "alexnet-owt-7be5be79.pth",
                 "alexnet-owt-4df8aa71.pth", "CLVAE_LPIPS_ALEX", "CLVAE_ALEXNET"):
        assert name in message
    assert str(no_default_weights / "hub" / "checkpoints") in message


def test_missing_explicit_path_is_named(tmp_path):
    with pytest.raises(MissingWeightsError, match="nope.pth"):
        load_fid_inception(tmp_path / "nope.pth")


def test_wrong_shapes_and_keys_are_listed(tmp_path):
    state = inception_state()
    state["Mixed_6e.branch_pool.conv.weight"] = torch.zeros(192, 768, 3, 3)
    del state["Mixed_5b.branch1x1.bn.running_var"]
    state["Mixed_5b.extra.weight"] = torch.zeros(1)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(BadWeightsError) as info:
        load_fid_inception(path)
    message = str(info.value)
    assert "bad.pth" in message and "3 problems" in message
    assert "missing Mixed_5b.branch1x1.bn.running_var" in message
    assert "unexpected key Mixed_5b.extra.weight" in message
    assert "Mixed_6e.branch_pool.conv.weight: shape (192, 768, 3, 3), expected shape (192, 768, 1, 1)" in message


def _leave_mark(path):
    Path(path).write_text("code ran")


class Payload:
    """Unpickling this would run ``_leave_mark``: what a malicious weights file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _leave_mark, (self.marker,)


def test_pickled_objects_are_refused(tmp_path):
    marker, path = tmp_path / "marker", tmp_path / "evil.pth"
    torch.save({"lin0.model.1.weight": torch.zeros(1, 64, 1, 1), "x": Payload(str(marker))}, path)
    with pytest.raises(BadWeightsError, match="could run code") as info:
        load_lpips(path, path)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)
    assert not marker.exists()
