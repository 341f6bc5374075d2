"""Small pickle-free files of the editing API: one result's codes, and style presets.

Both are ``.safetensors`` files: numpy arrays plus one JSON document in the header's
metadata, under "clvae_codes" or "clvae_preset". The document names the model the codes
fit (``model_identity``) so a mismatch is caught with a clear message.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from clvae.config import ModelConfig
from clvae.edit.errors import EditError
from clvae.model.codes import Codes, CodesError

FILE_FORMAT = 1
CODES_KEY = "clvae_codes"
CODES_SUFFIX = ".codes.safetensors"


def model_identity(cfg: ModelConfig) -> dict[str, Any]:
    """What codes must agree on to fit a model: its variant, C, N_1, N and code layers."""
    return {"variant": cfg.variant, "num_classes": cfg.num_classes, "z_dim": cfg.z_dim,
            "code_channels": cfg.code_channels, "code_layers": list(cfg.code_layers)}


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], key: str, document: dict[str, Any]) -> None:
    """``arrays`` and the JSON ``document`` (under ``key``) into one safetensors file."""
    data = safetensors.numpy.save({name: np.ascontiguousarray(a) for name, a in arrays.items()},
                                  metadata={key: json.dumps({"format": FILE_FORMAT, **document})})
    Path(path).write_bytes(data)


def read_arrays(path: str | os.PathLike, key: str, what: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Inverse of ``write_arrays``; EditError("bad_file") when ``path`` is no such file."""
    try:
        with safe_open(str(path), framework="numpy") as f:
            text = (f.metadata() or {}).get(key)
            arrays = {name: f.get_tensor(name) for name in f.keys()}
    except (OSError, SafetensorError) as error:
        raise EditError("bad_file", f"cannot read {what} {path}: {error}") from error
    if text is None:
        raise EditError("bad_file", f"{path} is a safetensors file but not a clvae {what} file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise EditError("bad_file", f"{path}: the {what} header is not JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise EditError("bad_file", f"{path}: unknown {what} file format {document.get('format')!r}")
    return arrays, document


def save_codes(path: str | os.PathLike, codes: Codes, cfg: ModelConfig, **info: Any) -> None:
    """One result's codes, with the model identity and JSON-able ``info`` (e.g. seed=...)."""
    write_arrays(path, codes.to_arrays(), CODES_KEY, {"model": model_identity(cfg), **info})


def load_codes(path: str | os.PathLike) -> tuple[Codes, dict[str, Any]]:
    """(codes, document) of a file written by ``save_codes``; check them with the model."""
    arrays, document = read_arrays(path, CODES_KEY, "codes")
    try:
        return Codes.from_arrays(arrays), document
    except CodesError as error:
        raise EditError("bad_file", f"{path}: {error}") from error
