"""The class lists (names and painting colours) of the paper's data sets, shipped as JSON.

Each ``clvae/data/palettes/<name>.json`` holds ``{"name", "description", "other_index",
"classes": [{"name", "color": [r, g, b]}, ...]}``; list position = class id. The same
``classes`` list is what a plain folder's ``classes.json`` holds (see ``read_classes_json``).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from clvae.config import ClassInfo

PALETTES: tuple[str, ...] = ("ade20k", "cityscapes", "deepfashion", "coco_stuff")


def load_palette(name: str) -> list[ClassInfo]:
    """The classes of the named palette, index = class id."""
    return classes_from_document(_palette_document(name), source=f"palette {name!r}")


def other_index(name: str) -> int | None:
    """The id of the palette's "other" / background class, or None when it has none."""
    return _palette_document(name)["other_index"]


def read_classes_json(path: Path) -> list[ClassInfo]:
    """The classes named by a ``classes.json`` file (``{"classes": [...]}``)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read class list {path}: {error}") from error
    return classes_from_document(document, source=str(path))


def classes_from_document(document: Any, source: str) -> list[ClassInfo]:
    """Parse ``document["classes"]``, saying which ``source`` is wrong if it is malformed."""
    entries = document.get("classes") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{source}: expected {{\"classes\": [{{\"name\": ..., \"color\": [r, g, b]}}, ...]}}")
    classes = []
    for index, entry in enumerate(entries):
        try:
            info = ClassInfo.from_dict(entry)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{source}: class {index} is malformed ({entry!r}): {error}") from error
        if len(entry["color"]) != 3 or not all(0 <= v <= 255 for v in info.color):
            raise ValueError(f"{source}: class {index} colour {entry['color']!r} is not an RGB triple in 0..255")
        classes.append(info)
    return classes


def _palette_document(name: str) -> dict[str, Any]:
    if name not in PALETTES:
        raise KeyError(f"unknown palette {name!r}; known palettes: {', '.join(PALETTES)}")
    text = resources.files("clvae.data").joinpath("palettes", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)
