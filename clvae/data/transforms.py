"""Pre-processing shared by every loader (paper, section 4.1).

Images are PIL RGB images, labels 2-D integer numpy arrays of class ids. Sizes are given
as ``(width, height)`` like PIL does. Labels are only ever resized with nearest neighbour,
so resizing never invents a class id. Horizontal flipping is left to the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from PIL import Image

Size = tuple[int, int]  # (width, height)


def resize_image(image: Image.Image, size: Size) -> Image.Image:
    """Resize an RGB image: area averaging when it shrinks both ways, bicubic otherwise."""
    if image.size == size:
        return image
    shrinking = size[0] <= image.width and size[1] <= image.height
    return image.resize(size, Image.Resampling.BOX if shrinking else Image.Resampling.BICUBIC)


def resize_label(label: np.ndarray, size: Size) -> np.ndarray:
    """Nearest-neighbour resize of a class-id map: output ids are a subset of input ids."""
    height, width = label.shape
    if (width, height) == size:
        return label
    rows = _nearest_indices(height, size[1])
    cols = _nearest_indices(width, size[0])
    return label[rows[:, None], cols[None, :]]


def _nearest_indices(source: int, target: int) -> np.ndarray:
    """Index of the source pixel whose centre is nearest each target pixel centre."""
    centres = (np.arange(target) + 0.5) * (source / target)
    return np.minimum(centres.astype(np.int64), source - 1)


def random_crop_origin(size: Size, crop: Size, generator: Optional[torch.Generator]) -> tuple[int, int]:
    """A uniformly random (left, top) for a ``crop`` window inside an image of ``size``.

    ``generator`` makes the draw reproducible; None draws from torch's global generator
    (which DataLoader seeds per worker).
    """
    if crop[0] > size[0] or crop[1] > size[1]:
        raise ValueError(f"crop {crop} is larger than the image {size}")
    left = int(torch.randint(size[0] - crop[0] + 1, (1,), generator=generator))
    top = int(torch.randint(size[1] - crop[1] + 1, (1,), generator=generator))
    return left, top


def crop_pair(image: Image.Image, label: np.ndarray, origin: tuple[int, int], crop: Size):
    """Cut the same ``crop``-sized window at ``origin`` = (left, top) out of image and label."""
    left, top = origin
    box = (left, top, left + crop[0], top + crop[1])
    return image.crop(box), label[top : top + crop[1], left : left + crop[0]]


def square_padding(size: Size) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) padding that centres an image of ``size`` in a square.

    Portrait images get left/right bars (the paper's DeepFashion squaring), landscape ones
    top/bottom bars; an odd remainder goes to the right / bottom.
    """
    width, height = size
    side = max(width, height)
    left, top = (side - width) // 2, (side - height) // 2
    return left, top, side - width - left, side - height - top


def pad_pair(
    image: Image.Image,
    label: np.ndarray,
    padding: tuple[int, int, int, int],
    image_fill: tuple[int, int, int] = (255, 255, 255),
    label_fill: int = 0,
):
    """Pad image with ``image_fill`` and label with ``label_fill`` by (left, top, right, bottom)."""
    left, top, right, bottom = padding
    padded = Image.new("RGB", (image.width + left + right, image.height + top + bottom), image_fill)
    padded.paste(image, (left, top))
    padded_label = np.pad(label, ((top, bottom), (left, right)), constant_values=label_fill)
    return padded, padded_label


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> float32 (3, H, W) in [-1, 1]."""
    pixels = torch.from_numpy(np.asarray(image.convert("RGB"), dtype=np.float32).copy())
    return pixels.permute(2, 0, 1) / 127.5 - 1.0


def label_to_tensor(label: np.ndarray) -> torch.Tensor:
    """Class-id map -> int64 (H, W)."""
    return torch.from_numpy(np.ascontiguousarray(label, dtype=np.int64))


@dataclass(frozen=True)
class ResizeCrop:
    """Resize to ``load_size``, then cut a ``crop_size`` window: random when ``random_crop``,
    else centred. ADE20K training is ResizeCrop((286, 286), (256, 256), True); evaluation is
    ResizeCrop((256, 256), (256, 256), False). ``load_size`` None keeps the file's size,
    ``crop_size`` None keeps the whole resized image."""

    load_size: Optional[Size]
    crop_size: Optional[Size] = None
    random_crop: bool = False

    def __call__(self, image: Image.Image, label: np.ndarray, generator: Optional[torch.Generator]):
        if self.load_size is not None:
            image, label = resize_image(image, self.load_size), resize_label(label, self.load_size)
        if self.crop_size is None or self.crop_size == image.size:
            return image, label, {}
        if self.random_crop:
            origin = random_crop_origin(image.size, self.crop_size, generator)
        else:
            origin = ((image.width - self.crop_size[0]) // 2, (image.height - self.crop_size[1]) // 2)
        image, label = crop_pair(image, label, origin, self.crop_size)
        return image, label, {}


@dataclass(frozen=True)
class PadToSquare:
    """Pad to a square (white image bars, ``label_fill`` label bars), then resize to ``size``.

    The extra output "pad" is (left, top, right, bottom) of the bars in output pixels, so a
    result can be cropped back to the photograph's own aspect ratio.
    """

    size: int
    label_fill: int = 0

    def __call__(self, image: Image.Image, label: np.ndarray, generator: Optional[torch.Generator]):
        padding = square_padding(image.size)
        scale = self.size / (image.width + padding[0] + padding[2])
        image, label = pad_pair(image, label, padding, label_fill=self.label_fill)
        out = (self.size, self.size)
        pad = torch.tensor([round(p * scale) for p in padding], dtype=torch.int64)
        return resize_image(image, out), resize_label(label, out), {"pad": pad}
