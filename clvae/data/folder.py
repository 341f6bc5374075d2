"""Data sets of image/label file pairs: the machinery every loader shares, and the plain folder.

``PairedImages`` reads one (image, label) pair per item, checks it (``errors``), runs a
pre-processing step (``transforms``) and returns the base.py item dict. The data-set
modules (ade20k, streets, deepfashion) only find their pairs and pick a pre-processing.

The plain folder (``folder_dataset``) is

    root/classes.json                       {"classes": [{"name": ..., "color": [r, g, b]}, ...]}
    root/images/*.{jpg,jpeg,png}            photographs
    root/labels/*.png                       label maps, matched to images by file stem

or the same with a split level, ADE20K-style: ``images/<split>/``, ``annotations/<split>/``
(or ``labels/<split>/``). Labels are grey class-index PNGs or RGB PNGs in the classes' colours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Protocol

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from clvae.config import ClassInfo
from clvae.data.errors import (
    DataError,
    OnBad,
    check_label_range,
    check_on_bad,
    check_same_size,
    handle_bad,
    open_image,
)
from clvae.data.palettes import read_classes_json
from clvae.data.transforms import ResizeCrop, image_to_tensor, label_to_tensor

IMAGE_SUFFIXES: tuple[str, ...] = (".jpg", ".jpeg", ".png")
GREY_MODES: tuple[str, ...] = ("L", "P", "I", "I;16")
LABEL_FOLDERS: tuple[str, ...] = ("annotations", "labels")
SPLIT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "training": ("training", "train"),
    "val": ("val", "validation"),
    "validation": ("validation", "val"),
    "test": ("test", "testing"),
}
FOLDER_LAYOUT = (
    "root/classes.json, root/images/*.{jpg,png} and root/labels/*.png (same stems); or, with "
    "split=NAME, root/images/NAME/ and root/annotations/NAME/ (or root/labels/NAME/)"
)


@dataclass(frozen=True)
class Pair:
    image: Path
    label: Path


class Preprocess(Protocol):
    def __call__(self, image: Image.Image, label: np.ndarray, generator: Optional[torch.Generator]): ...


LabelDecoder = Callable[[Image.Image, Path], np.ndarray]


def grey_ids(label: Image.Image, path: Path) -> np.ndarray:
    """Class ids of a grey (or palette-index) label PNG."""
    if label.mode not in GREY_MODES:
        raise DataError(f"{path}: expected a grey class-index PNG, got a {label.mode} image")
    return np.asarray(label, dtype=np.int64)


class PairedImages(Dataset):
    """Image/label pairs as base.py items, plus "index" (the pair actually returned).

    on_bad="error" raises the DataError of a bad pair; "skip" warns and returns the next
    good pair instead. ``seed`` makes random crops reproducible: item ``i`` in epoch ``e``
    (see ``set_epoch``) draws from a generator seeded with (seed, e, i), whatever the
    worker. seed None draws from torch's global generator.
    """

    def __init__(
        self,
        pairs: Iterable[Pair],
        classes: list[ClassInfo],
        preprocess: Preprocess,
        decode_label: LabelDecoder = grey_ids,
        on_bad: OnBad = "error",
        seed: Optional[int] = None,
    ) -> None:
        self.pairs = list(pairs)
        self.classes = list(classes)
        self.preprocess = preprocess
        self.decode_label = decode_label
        self.on_bad = check_on_bad(on_bad)
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw new random crops: the training loop calls this once per epoch."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self.pairs) <= index < len(self.pairs):
            raise IndexError(f"item {index} of a data set of {len(self.pairs)}")
        for offset in range(len(self.pairs)):
            current = (index + offset) % len(self.pairs)
            try:
                return self.load(current)
            except DataError as error:
                handle_bad(error, self.on_bad)
        raise DataError(f"every one of the {len(self.pairs)} pairs is bad (first: {self.pairs[0].image})")

    def load(self, index: int) -> dict[str, torch.Tensor]:
        """Item ``index``, raising DataError if its files are bad."""
        pair = self.pairs[index]
        image = open_image(pair.image).convert("RGB")
        label_image = open_image(pair.label)
        check_same_size(image, label_image, pair.image, pair.label)
        label = self.decode_label(label_image, pair.label)
        check_label_range(label, len(self.classes), pair.label)
        image, label, extras = self.preprocess(image, label, self._generator(index))
        item = {"image": image_to_tensor(image), "label": label_to_tensor(label)}
        return {**item, **extras, "index": torch.tensor(index)}

    def _generator(self, index: int) -> Optional[torch.Generator]:
        if self.seed is None:
            return None
        state = np.random.SeedSequence([self.seed, self.epoch, index]).generate_state(1)[0]
        return torch.Generator().manual_seed(int(state))


def pair_files(images: list[Path], label_for: Callable[[Path], Path], on_bad: OnBad) -> list[Pair]:
    """Pair each image with ``label_for(image)``; an image without one is a bad file."""
    pairs = []
    for image in images:
        label = label_for(image)
        if label.is_file():
            pairs.append(Pair(image, label))
        else:
            handle_bad(DataError(f"{image} has no label: expected {label}"), on_bad)
    return pairs


def require_pairs(pairs: list[Pair], where: Path, layout: str) -> list[Pair]:
    if not pairs:
        raise DataError(f"no image/label pairs in {where}; expected {layout}")
    return pairs


def require_dir(path: Path, layout: str) -> Path:
    if not path.is_dir():
        raise DataError(f"{path} is not a folder; expected {layout}")
    return path


def list_images(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def resolve_split(split: str, folders: dict[str, str]) -> str:
    """The folder name of ``split``; ``folders`` maps every accepted name to its folder."""
    if split not in folders:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(folders)}")
    return folders[split]


def train_crop(split_folder: str, load_size: int, crop_size: int, random_crop: Optional[bool]) -> ResizeCrop:
    """The paper's ADE20K scheme: training resizes to load_size and random-crops crop_size,
    evaluation resizes straight to crop_size. ``random_crop`` overrides which one."""
    training = split_folder in SPLIT_SYNONYMS["train"] if random_crop is None else random_crop
    if training:
        return ResizeCrop((load_size, load_size), (crop_size, crop_size), random_crop=True)
    return ResizeCrop((crop_size, crop_size))


class ColourLabels:
    """Decode label PNGs of a plain folder: grey ones hold class ids, RGB ones class colours."""

    def __init__(self, classes: list[ClassInfo]) -> None:
        self.ids = {_pack(c.color): i for i, c in enumerate(classes)}
        self.shared = sorted(color for color, n in Counter(c.color for c in classes).items() if n > 1)

    def __call__(self, label: Image.Image, path: Path) -> np.ndarray:
        if label.mode in GREY_MODES:
            return grey_ids(label, path)
        if self.shared:
            raise DataError(f"{path}: RGB label, but classes.json gives colours {self.shared} to several classes")
        rgb = np.asarray(label.convert("RGB"), dtype=np.int64)
        colours, inverse = np.unique(_pack_array(rgb), return_inverse=True)
        ids = np.array([self.ids.get(int(c), -1) for c in colours])
        if (ids < 0).any():
            unknown = np.argwhere(ids[inverse].reshape(rgb.shape[:2]) < 0)[0]
            y, x = (int(v) for v in unknown)
            raise DataError(f"{path}: colour {tuple(int(v) for v in rgb[y, x])} at x={x}, y={y} is no class's colour")
        return ids[inverse].reshape(rgb.shape[:2])


def _pack(color: tuple[int, int, int]) -> int:
    return (color[0] << 16) | (color[1] << 8) | color[2]


def _pack_array(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


def folder_dataset(
    root: str | Path,
    split: Optional[str] = None,
    load_size: int = 256,
    crop_size: int = 256,
    random_crop: Optional[bool] = None,
    on_bad: OnBad = "error",
    seed: Optional[int] = None,
) -> PairedImages:
    """A plain folder of image/label pairs named by ``classes.json`` (layout: module docstring).

    Images are resized to load_size x load_size and, when training with crop_size smaller,
    randomly cropped; otherwise resized to crop_size x crop_size.
    """
    root = require_dir(Path(root), FOLDER_LAYOUT)
    on_bad = check_on_bad(on_bad)
    classes_path = root / "classes.json"
    if not classes_path.is_file():
        raise DataError(f"{classes_path} is missing; expected {FOLDER_LAYOUT}")
    classes = read_classes_json(classes_path)
    image_dir, label_dir = _folder_split_dirs(root, split)
    pairs = pair_files(list_images(image_dir), lambda image: label_dir / f"{image.stem}.png", on_bad)
    preprocess = train_crop(image_dir.name if split else "", load_size, crop_size, random_crop)
    return PairedImages(require_pairs(pairs, image_dir, FOLDER_LAYOUT), classes, preprocess, ColourLabels(classes), on_bad, seed)


def _folder_split_dirs(root: Path, split: Optional[str]) -> tuple[Path, Path]:
    """(images folder, labels folder) of ``split`` (None: the flat layout)."""
    images = require_dir(root / "images", FOLDER_LAYOUT)
    names = SPLIT_SYNONYMS.get(split, (split,)) if split else ("",)
    for name in names:
        for label_folder in LABEL_FOLDERS:
            if (images / name).is_dir() and (root / label_folder / name).is_dir():
                return images / name, root / label_folder / name
    wanted = f"images/{split}/ with annotations/{split}/ or labels/{split}/" if split else "images/ with labels/"
    raise DataError(f"{root}: no {wanted}; expected {FOLDER_LAYOUT}")
