"""What counts as a bad data file, and what a loader does about it.

Every problem with one file (unreadable, corrupt, wrong size, label id out of range, image
without a label) becomes a ``DataError`` naming the file. A loader's ``on_bad`` setting says
whether it is raised (``"error"``) or reported as a warning and the item skipped (``"skip"``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

OnBad = Literal["error", "skip"]
ON_BAD_CHOICES: tuple[str, ...] = ("error", "skip")


class DataError(ValueError):
    """A data file is missing, unreadable or inconsistent; the message names it."""


class BadFileWarning(UserWarning):
    """A bad file was skipped because the loader runs with ``on_bad="skip"``."""


def check_on_bad(on_bad: str) -> OnBad:
    if on_bad not in ON_BAD_CHOICES:
        raise ValueError(f"on_bad must be one of {ON_BAD_CHOICES}, not {on_bad!r}")
    return on_bad  # type: ignore[return-value]


def handle_bad(error: DataError, on_bad: OnBad) -> None:
    """Raise ``error`` or turn it into a ``BadFileWarning``, as ``on_bad`` says."""
    if on_bad == "error":
        raise error
    warnings.warn(f"skipping: {error}", BadFileWarning, stacklevel=3)


def open_image(path: Path) -> Image.Image:
    """Open and fully decode an image file, turning any failure into a DataError."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: cannot read image ({error})") from error


def check_same_size(image: Image.Image, label: Image.Image, image_path: Path, label_path: Path) -> None:
    if image.size != label.size:
        raise DataError(
            f"{image_path} is {image.width} x {image.height} but its label {label_path} is "
            f"{label.width} x {label.height}"
        )


def check_label_range(label: np.ndarray, num_classes: int, path: Path) -> None:
    """Every id must be a class: 0 .. num_classes - 1."""
    outside = (label < 0) | (label >= num_classes)
    if outside.any():
        y, x = (int(v) for v in np.argwhere(outside)[0])
        bad = sorted(int(v) for v in np.unique(label[outside]))
        raise DataError(
            f"{path}: label values {bad} are outside 0..{num_classes - 1} "
            f"(first at x={x}, y={y})"
        )
