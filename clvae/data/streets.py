"""Street scenes with the 19 Cityscapes train-id classes plus "other" (id 19): GTA-5, Cityscapes.

GTA-5 as post-processed for cIMLE: root/RGB256Full/{train,test}/N.png and
root/LabelgrayFull20/{train,test}/N.png, grey 0..19, 512 x 256.

Cityscapes in SPADE's layout: root/leftImg8bit/{train,val}/CITY/*_leftImg8bit.png and
root/gtFine/{train,val}/CITY/*_gtFine_labelIds.png. The 34 label ids (0..33) are mapped to
train ids with cityscapesScripts' table; ignored ids (train id 255) become "other".
Both are resized to 512 x 256 (width x height).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from clvae.data.errors import DataError, OnBad, check_on_bad
from clvae.data.folder import (
    PairedImages,
    grey_ids,
    list_images,
    pair_files,
    require_dir,
    require_pairs,
    resolve_split,
)
from clvae.data.palettes import load_palette, other_index
from clvae.data.transforms import ResizeCrop

GTA5_LAYOUT = "root/RGB256Full/{train,test}/N.png and root/LabelgrayFull20/{train,test}/N.png (grey 0..19)"
GTA5_SPLITS = {"train": "train", "test": "test", "val": "test"}
CITYSCAPES_LAYOUT = (
    "root/leftImg8bit/{train,val}/CITY/*_leftImg8bit.png and root/gtFine/{train,val}/CITY/*_gtFine_labelIds.png"
)
CITYSCAPES_SPLITS = {"train": "train", "val": "val", "test": "val"}
NUM_LABEL_IDS = 34  # Cityscapes label ids 0..33 (license plate, -1, never appears in a PNG)
LABEL_ID_TO_TRAIN_ID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18,
}  # every other label id 0..33 is ignored in training: "other"


def gta5_dataset(
    root: str | Path,
    split: str = "train",
    width: int = 512,
    height: int = 256,
    on_bad: OnBad = "error",
    seed: Optional[int] = None,
) -> PairedImages:
    """GTA-5 ``split`` ("train", "test"; "val" = "test"), resized to width x height."""
    on_bad = check_on_bad(on_bad)
    folder = resolve_split(split, GTA5_SPLITS)
    images = require_dir(Path(root) / "RGB256Full" / folder, GTA5_LAYOUT)
    labels = require_dir(Path(root) / "LabelgrayFull20" / folder, GTA5_LAYOUT)
    pairs = pair_files(list_images(images), lambda image: labels / f"{image.stem}.png", on_bad)
    return _streets(require_pairs(pairs, images, GTA5_LAYOUT), width, height, grey_ids, on_bad, seed)


def cityscapes_dataset(
    root: str | Path,
    split: str = "train",
    width: int = 512,
    height: int = 256,
    on_bad: OnBad = "error",
    seed: Optional[int] = None,
) -> PairedImages:
    """Cityscapes ``split`` ("train", "val"; "test" = "val": the test labels are withheld)."""
    on_bad = check_on_bad(on_bad)
    folder = resolve_split(split, CITYSCAPES_SPLITS)
    images = require_dir(Path(root) / "leftImg8bit" / folder, CITYSCAPES_LAYOUT)
    labels = require_dir(Path(root) / "gtFine" / folder, CITYSCAPES_LAYOUT)
    photos = sorted(images.glob("*/*_leftImg8bit.png"))
    pairs = pair_files(photos, lambda image: _cityscapes_label(image, labels), on_bad)
    return _streets(require_pairs(pairs, images, CITYSCAPES_LAYOUT), width, height, train_ids, on_bad, seed)


def train_ids(label: Image.Image, path: Path) -> np.ndarray:
    """Cityscapes label ids -> the 20 classes (train ids 0..18, other 19)."""
    ids = grey_ids(label, path)
    unknown = (ids < 0) | (ids >= NUM_LABEL_IDS)
    if unknown.any():
        bad = sorted(int(v) for v in np.unique(ids[unknown]))
        raise DataError(f"{path}: values {bad} are not Cityscapes label ids (0..{NUM_LABEL_IDS - 1})")
    return _TRAIN_ID_TABLE[ids]


def _train_id_table() -> np.ndarray:
    table = np.full(NUM_LABEL_IDS, other_index("cityscapes"), dtype=np.int64)
    for label_id, train_id in LABEL_ID_TO_TRAIN_ID.items():
        table[label_id] = train_id
    return table


_TRAIN_ID_TABLE = _train_id_table()


def _cityscapes_label(image: Path, labels: Path) -> Path:
    stem = image.name.removesuffix("_leftImg8bit.png")
    return labels / image.parent.name / f"{stem}_gtFine_labelIds.png"


def _streets(pairs, width, height, decode_label, on_bad, seed) -> PairedImages:
    preprocess = ResizeCrop((width, height))
    return PairedImages(pairs, load_palette("cityscapes"), preprocess, decode_label, on_bad, seed)
