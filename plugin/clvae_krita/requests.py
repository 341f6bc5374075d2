"""Request bodies for the daemon (docs/protocol.md) and the results of its replies, from and
to the plugin's own types: ``LabelMap``s, RGB bytes and stored codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Sequence

from .palette import LabelMap
from .protocol import Array
from .sidecar import StoredArray

DEFAULT_FEATHER = 8  # pixels of blended edge around a re-rolled class (clvae.edit's default)
LAYER_CHOICES = ("all", "coarse", "fine")


@dataclass
class Image:
    """RGB bytes, row-major."""

    rgb: bytes
    width: int
    height: int

    def to_array(self) -> Array:
        return Array("uint8", (self.height, self.width, 3), self.rgb)


@dataclass
class Result:
    image: Optional[Image]  # None for ``encode``
    codes: dict[str, StoredArray]
    seed: Optional[int]


def label_array(label: LabelMap) -> Array:
    return Array(label.dtype, (label.height, label.width), label.little_endian_bytes())


def codes_array(codes: dict[str, StoredArray]) -> dict[str, Array]:
    return {name: Array(stored.dtype, stored.shape, stored.data) for name, stored in codes.items()}


def _with_model(body: dict[str, Any], model: Optional[str], seed: Optional[int]) -> dict[str, Any]:
    if model is not None:
        body["model"] = model
    if seed is not None:
        body["seed"] = seed
    return body


def generate_body(label: LabelMap, count: int, seed: Optional[int] = None, model: Optional[str] = None) -> dict:
    """``count`` images of ``label``; image i has seed ``seed + i``."""
    return _with_model({"label": label_array(label), "n": count}, model, seed)


def reroll_body(label: LabelMap, codes: dict[str, StoredArray], classes: Sequence[int], layers: str = "all",
                seed: Optional[int] = None, preserve: Optional[Image] = None, feather: int = DEFAULT_FEATHER,
                model: Optional[str] = None) -> dict:
    """New codes for ``classes`` at ``layers`` (a group name), the rest kept; ``preserve``:
    the image whose pixels stay outside those classes."""
    body = {"label": label_array(label), "codes": codes_array(codes), "classes": list(classes),
            "layers": _layers(layers), "feather": feather}
    if preserve is not None:
        _same_size(preserve, label, "the image to preserve")
        body["preserve"] = preserve.to_array()
    return _with_model(body, model, seed)


def edit_body(label: LabelMap, codes: dict[str, StoredArray], class_id: int, layers: str = "all",
              strength: float = 0.5, seed: Optional[int] = None, model: Optional[str] = None) -> dict:
    """Class ``class_id``'s codes moved ``strength`` of the way to a seeded random draw."""
    return _with_model({"label": label_array(label), "codes": codes_array(codes), "cls": class_id,
                        "layers": _layers(layers), "target": "random", "strength": float(strength)}, model, seed)


def transfer_body(label: LabelMap, ref_image: Image, ref_label: LabelMap, classes: Optional[Sequence[int]] = None,
                  seed: Optional[int] = None, take_global: bool = True, model: Optional[str] = None) -> dict:
    """The reference's styles for the classes both maps share (or ``classes`` of them)."""
    _same_size(ref_image, ref_label, "the reference image")
    body = {"label": label_array(label), "ref_image": ref_image.to_array(), "ref_label": label_array(ref_label),
            "take_global": take_global}
    if classes:
        body["classes"] = list(classes)
    return _with_model(body, model, seed)


def render_body(label: LabelMap, codes: dict[str, StoredArray], model: Optional[str] = None) -> dict:
    """The picture of ``label`` with ``codes``, nothing drawn at random."""
    return _with_model({"label": label_array(label), "codes": codes_array(codes)}, model, None)


def encode_body(image: Image, label: LabelMap, model: Optional[str] = None) -> dict:
    """The encoder's codes of ``image`` (with its label map); the reply has no picture."""
    _same_size(image, label, "the image")
    return _with_model({"image": image.to_array(), "label": label_array(label)}, model, None)


def _layers(choice: str) -> str:
    if choice not in LAYER_CHOICES:
        raise ValueError(f"layers must be one of {', '.join(LAYER_CHOICES)}, got {choice!r}")
    return choice


def _same_size(image: Image, label: LabelMap, what: str) -> None:
    if (image.width, image.height) != (label.width, label.height):
        raise ValueError(f"{what} is {image.width} x {image.height} but its label map is "
                         f"{label.width} x {label.height}")


def results(reply: dict) -> list[Result]:
    """The results of a "result" reply body, images as RGB bytes."""
    return [Result(_image(entry["image"]) if "image" in entry else None, _stored_codes(entry["codes"]), entry["seed"])
            for entry in reply["results"]]


def _image(array: Array) -> Image:
    height, width, _ = array.shape
    return Image(bytes(array.data), width, height)


def _stored_codes(codes: dict[str, Array]) -> dict[str, StoredArray]:
    return {name: StoredArray(array.dtype, tuple(array.shape), bytes(array.data)) for name, array in codes.items()}
