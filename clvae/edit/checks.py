"""Input checks of the editing API: each failure is an ``EditError`` with a short code."""

from __future__ import annotations

import math
import secrets
from typing import Iterable, Optional, Sequence

import numpy as np
import torch

from clvae.config import ModelConfig
from clvae.edit.errors import EditError
from clvae.model.codes import Codes, CodesError

MIN_SIDE = 2  # a label map needs at least 2 x 2 pixels
MAX_SEED = 2**63 - 1
SEED_RANGE = 2**31  # fresh seeds are drawn below this, so they stay short to type
ClassRef = int | str  # a class id or its name


def check_label(label: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """A (H, W) integer map of class ids in 0 .. C-1, returned as int64."""
    label = np.asarray(label)
    if label.ndim != 2 or not np.issubdtype(label.dtype, np.integer):
        raise EditError("bad_label", f"a label map must be a 2-D integer array (H, W), got {label.dtype} {label.shape}")
    if min(label.shape) < MIN_SIDE:
        raise EditError("mask_too_small", f"the label map is {label.shape[1]} x {label.shape[0]} pixels; "
                        f"it needs at least {MIN_SIDE} x {MIN_SIDE}")
    outside = (label < 0) | (label >= cfg.num_classes)
    if outside.any():
        ids = np.unique(label[outside])
        shown = ", ".join(str(i) for i in ids[:8]) + (", ..." if len(ids) > 8 else "")
        raise EditError("bad_class_id", f"the label map holds class ids {shown} ({int(outside.sum())} pixels) "
                        f"but the model has {cfg.num_classes} classes (ids 0..{cfg.num_classes - 1})")
    return label.astype(np.int64)


def check_image(image: np.ndarray, what: str = "image") -> np.ndarray:
    """An (H, W, 3) uint8 RGB picture."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise EditError("bad_image", f"the {what} must be an (H, W, 3) uint8 RGB array, got {image.dtype} {image.shape}")
    if min(image.shape[:2]) < MIN_SIDE:
        raise EditError("bad_image", f"the {what} is {image.shape[1]} x {image.shape[0]} pixels; "
                        f"it needs at least {MIN_SIDE} x {MIN_SIDE}")
    return image


def check_same_size(image: np.ndarray, label: np.ndarray, what: str) -> None:
    if image.shape[:2] != label.shape:
        raise EditError("size_mismatch", f"the {what} is {image.shape[1]} x {image.shape[0]} pixels "
                        f"but its label map is {label.shape[1]} x {label.shape[0]}")


def check_codes(codes: Codes, cfg: ModelConfig, what: str = "codes") -> None:
    """Codes of one image that fit ``cfg``'s model and hold only finite values."""
    if not isinstance(codes, Codes):
        raise EditError("bad_codes", f"{what} must be a Codes object, got {type(codes).__name__}")
    if codes.batch_size != 1:
        raise EditError("codes_mismatch", f"{what} must be of one image, got a batch of {codes.batch_size}")
    if any(not torch.isfinite(t).all() for t in codes.tensors().values()):
        raise EditError("nan_codes", f"{what} hold NaN or infinite values")
    try:
        codes.check(cfg)
    except CodesError as error:
        raise EditError("codes_mismatch", f"{what} do not fit this model: {error}") from error


def resolve_classes(cfg: ModelConfig, classes: ClassRef | Iterable[ClassRef]) -> list[int]:
    """Class ids from one id or name, or several, without repeats; at least one."""
    names = {info.name: i for i, info in enumerate(cfg.classes)}
    ids: list[int] = []
    for ref in [classes] if isinstance(classes, (str, int, np.integer)) else classes:
        cls = names.get(ref) if isinstance(ref, str) else _class_id(ref, cfg)
        if cls is None:
            raise EditError("unknown_class", f"the model has no class {ref!r}; its classes are "
                            + ", ".join(info.name for info in cfg.classes))
        if cls not in ids:
            ids.append(cls)
    if not ids:
        raise EditError("unknown_class", "no class was chosen")
    return ids


def _class_id(ref: object, cfg: ModelConfig) -> Optional[int]:
    if isinstance(ref, (bool, np.bool_)) or not isinstance(ref, (int, np.integer)):
        return None
    return int(ref) if 0 <= ref < cfg.num_classes else None


def require_present(cfg: ModelConfig, classes: Sequence[int], label: np.ndarray, model_label: torch.Tensor,
                    where: str = "the label map") -> None:
    """Every chosen class must cover pixels of ``label`` that survive the resize to the model
    (``model_label`` (H_m, W_m)); else editing it would change nothing."""
    in_input = np.bincount(label.ravel(), minlength=cfg.num_classes) > 0
    in_model = torch.bincount(model_label.flatten().cpu(), minlength=cfg.num_classes) > 0
    absent = [cfg.classes[c].name for c in classes if not in_input[c]]
    if absent:
        raise EditError("class_absent", f"{where} has no pixel of class {', '.join(absent)}")
    vanished = [cfg.classes[c].name for c in classes if not in_model[c]]
    if vanished:
        raise EditError("class_too_small", f"class {', '.join(vanished)} vanishes when {where} is resized to the "
                        f"model's {cfg.width} x {cfg.height}: paint it larger")


def require_encoder(cfg: ModelConfig) -> None:
    if not cfg.uses_encoder:
        raise EditError("no_encoder", f"a {cfg.variant} model has no encoder, so it cannot read styles from images")


def require_class_codes(cfg: ModelConfig) -> None:
    if not cfg.one_code_per_class:
        raise EditError("no_class_codes", f"a {cfg.variant} model has no class-wise codes to edit")


def check_seed(seed: Optional[int], count: int = 1) -> int:
    """``seed`` itself, or a fresh one when None; seeds seed .. seed + count - 1 must be valid."""
    if seed is None:
        return secrets.randbelow(SEED_RANGE)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED - count:
        raise EditError("bad_seed", f"a seed must be an integer in 0..{MAX_SEED - count}, got {seed!r}")
    return int(seed)


def check_count(n: int, what: str = "the number of images") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise EditError("bad_count", f"{what} must be a positive integer, got {n!r}")
    return int(n)


def check_strength(strength: float) -> float:
    """Finite and not negative; above 1 extrapolates."""
    if not isinstance(strength, (int, float, np.floating)) or not math.isfinite(strength) or strength < 0:
        raise EditError("bad_strength", f"strength must be a finite number >= 0, got {strength!r}")
    return float(strength)


def check_feather(feather: int) -> int:
    if isinstance(feather, bool) or not isinstance(feather, (int, np.integer)) or feather < 0:
        raise EditError("bad_feather", f"feather must be a whole number of pixels >= 0, got {feather!r}")
    return int(feather)
