"""DeepFashion as the authors ship it: {train,test}/X.jpg with X_label.png, grey 0..15.

Images are squared with white bars at the left and right (label bars: background 0), then
resized to 256 x 256 (section 4.1). Each item's "pad" = (left, top, right, bottom) bar widths
in output pixels, so results can be cropped back to the photograph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from clvae.data.errors import OnBad, check_on_bad
from clvae.data.folder import PairedImages, list_images, pair_files, require_dir, require_pairs, resolve_split
from clvae.data.palettes import load_palette, other_index
from clvae.data.transforms import PadToSquare

LAYOUT = "root/{train,test}/X.jpg with root/{train,test}/X_label.png (grey 0..15)"
SPLITS = {"train": "train", "test": "test", "val": "test"}
LABEL_SUFFIX = "_label.png"


def deepfashion_dataset(
    root: str | Path,
    split: str = "train",
    size: int = 256,
    on_bad: OnBad = "error",
    seed: Optional[int] = None,
) -> PairedImages:
    """DeepFashion ``split`` ("train", "test"; "val" = "test"), squared and resized to ``size``."""
    on_bad = check_on_bad(on_bad)
    folder = require_dir(Path(root) / resolve_split(split, SPLITS), LAYOUT)
    photos = list_images(folder, (".jpg", ".jpeg"))
    pairs = pair_files(photos, lambda image: image.with_name(image.stem + LABEL_SUFFIX), on_bad)
    preprocess = PadToSquare(size, label_fill=other_index("deepfashion"))
    return PairedImages(require_pairs(pairs, folder, LAYOUT), load_palette("deepfashion"), preprocess, on_bad=on_bad, seed=seed)
