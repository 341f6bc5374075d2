"""ADE20K SceneParsing (ADEChallengeData2016) as the paper uses it: 151 classes, 0 = other.

Layout: root/images/{training,validation}/*.jpg and root/annotations/{training,validation}/*.png
(8-bit grey, 0..150). Training resizes to 286 x 286 and random-crops 256 x 256; validation
resizes to 256 x 256 (section 4.1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from clvae.data.errors import OnBad, check_on_bad
from clvae.data.folder import (
    PairedImages,
    list_images,
    pair_files,
    require_dir,
    require_pairs,
    resolve_split,
    train_crop,
)
from clvae.data.palettes import load_palette

LAYOUT = "ADEChallengeData2016/: images/{training,validation}/*.jpg, annotations/{training,validation}/*.png"
SPLITS = {"train": "training", "training": "training", "val": "validation", "validation": "validation", "test": "validation"}


def ade20k_dataset(
    root: str | Path,
    split: str = "train",
    load_size: int = 286,
    crop_size: int = 256,
    random_crop: Optional[bool] = None,
    on_bad: OnBad = "error",
    seed: Optional[int] = None,
) -> PairedImages:
    """ADE20K ``split`` ("train"/"training", "val"/"validation"/"test") under ``root``.

    ``root`` is the ADEChallengeData2016 folder or its parent. ``random_crop`` defaults to
    True for training, False otherwise (then images are resized to crop_size x crop_size).
    """
    on_bad = check_on_bad(on_bad)
    folder = resolve_split(split, SPLITS)
    root = _dataset_folder(Path(root))
    images = require_dir(root / "images" / folder, LAYOUT)
    labels = require_dir(root / "annotations" / folder, LAYOUT)
    pairs = pair_files(list_images(images, (".jpg", ".jpeg")), lambda image: labels / f"{image.stem}.png", on_bad)
    preprocess = train_crop(folder, load_size, crop_size, random_crop)
    return PairedImages(require_pairs(pairs, images, LAYOUT), load_palette("ade20k"), preprocess, on_bad=on_bad, seed=seed)


def _dataset_folder(root: Path) -> Path:
    nested = root / "ADEChallengeData2016"
    return nested if not (root / "images").is_dir() and nested.is_dir() else root
