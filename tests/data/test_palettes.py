"""Class palettes shipped as package data, and classes.json parsing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from clvae.config import ClassInfo
from clvae.data.palettes import PALETTES, load_palette, other_index, read_classes_json

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"


@pytest.mark.parametrize("name, count", [("ade20k", 151), ("cityscapes", 20), ("deepfashion", 16), ("coco_stuff", 182)])
def test_palette_sizes_and_types(name: str, count: int) -> None:
    classes = load_palette(name)
    assert len(classes) == count
    assert all(isinstance(c, ClassInfo) and len(c.color) == 3 for c in classes)
    assert all(isinstance(v, int) and 0 <= v <= 255 for c in classes for v in c.color)
    assert len({c.name for c in classes}) == count


def test_every_listed_palette_loads() -> None:
    assert set(PALETTES) == {"ade20k", "cityscapes", "deepfashion", "coco_stuff"}


def test_ade20k_order_and_colours() -> None:
    classes = load_palette("ade20k")
    assert classes[0] == ClassInfo("other", (0, 0, 0))
    assert [c.name for c in classes[1:6]] == ["wall", "building", "sky", "floor", "tree"]
    assert classes[1].color == (120, 120, 120)
    assert classes[3].color == (6, 230, 230)
    assert classes[150] == ClassInfo("flag", (92, 0, 255))
    assert other_index("ade20k") == 0


def test_cityscapes_train_ids_then_other() -> None:
    classes = load_palette("cityscapes")
    assert classes[0] == ClassInfo("road", (128, 64, 128))
    assert classes[10] == ClassInfo("sky", (70, 130, 180))
    assert classes[13] == ClassInfo("car", (0, 0, 142))
    assert classes[18] == ClassInfo("bicycle", (119, 11, 32))
    assert classes[19] == ClassInfo("other", (0, 0, 0))
    assert other_index("cityscapes") == 19


def test_deepfashion_colours_match_the_authors_palette_file() -> None:
    palette_file = SAMPLES / "deepfashion" / "color_palette.txt"
    if not palette_file.is_file():
        pytest.skip(f"DeepFashion samples not found at {palette_file}")
    colours = json.loads(re.sub(r"\s+", "", palette_file.read_text()))
    classes = load_palette("deepfashion")
    assert [list(c.color) for c in classes] == colours
    assert classes[0].name == "background" and other_index("deepfashion") == 0
    assert (classes[7].name, classes[8].name) == ("hair", "face")


def test_coco_stuff_follows_spade_ids() -> None:
    classes = load_palette("coco_stuff")
    assert (classes[0].name, classes[181].name) == ("person", "wood")
    assert classes[156] == ClassInfo("sky-other", (95, 219, 255))
    assert other_index("coco_stuff") is None


def test_unknown_palette_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="ade20k"):
        load_palette("pascal")


def test_read_classes_json(tmp_path: Path) -> None:
    path = tmp_path / "classes.json"
    path.write_text(json.dumps({"classes": [{"name": "sky", "color": [0, 0, 255]}, {"name": "sea", "color": [0, 9, 99]}]}))
    assert read_classes_json(path) == [ClassInfo("sky", (0, 0, 255)), ClassInfo("sea", (0, 9, 99))]


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        json.dumps({"classes": []}),
        json.dumps([{"name": "sky", "color": [0, 0, 255]}]),
        json.dumps({"classes": [{"name": "sky"}]}),
        json.dumps({"classes": [{"name": "sky", "color": [0, 0, 256]}]}),
        json.dumps({"classes": [{"name": "sky", "color": [0, 0]}]}),
    ],
)
def test_read_classes_json_rejects_malformed_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "classes.json"
    path.write_text(text)
    with pytest.raises(ValueError, match="classes.json"):
        read_classes_json(path)
