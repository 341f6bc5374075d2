"""Weight files with the official layouts and random values, and tiny model files."""

from __future__ import annotations

import pytest
import torch

from tests.eval.helpers import alexnet_state, inception_state, lpips_heads_state, tiny_procedural_model


@pytest.fixture(scope="session")
def weight_files(tmp_path_factory):
    """name -> path of random LPIPS heads, AlexNet and FID Inception files (.pth)."""
    folder = tmp_path_factory.mktemp("weights")
    files = {"lpips": folder / "alex.pth", "alexnet": folder / "alexnet-owt-7be5be79.pth",
             "inception": folder / "pt_inception-2015-12-05-6726825d.pth"}
    torch.save(lpips_heads_state(), files["lpips"])
    torch.save(alexnet_state(), files["alexnet"])
    torch.save(inception_state(), files["inception"])
    return files


@pytest.fixture
def no_default_weights(tmp_path, monkeypatch):
    """Every default weights location points into an empty tmp folder."""
    for var in ("CLVAE_LPIPS_ALEX", "CLVAE_ALEXNET", "CLVAE_FID_INCEPTION"):
        monkeypatch.setenv(var, str(tmp_path / "env" / f"{var.lower()}.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    return tmp_path


@pytest.fixture
def weights_in_env(weight_files, monkeypatch):
    monkeypatch.setenv("CLVAE_LPIPS_ALEX", str(weight_files["lpips"]))
    monkeypatch.setenv("CLVAE_ALEXNET", str(weight_files["alexnet"]))
    monkeypatch.setenv("CLVAE_FID_INCEPTION", str(weight_files["inception"]))
    return weight_files


@pytest.fixture(scope="session")
def model_files(tmp_path_factory):
    """variant -> a tiny random procedural model file."""
    folder = tmp_path_factory.mktemp("models")
    return {v: str(tiny_procedural_model(folder / f"{v}.safetensors", v)) for v in ("clvae", "gaugan_vae", "gaugan")}
