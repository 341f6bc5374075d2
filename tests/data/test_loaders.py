"""Loaders on tiny fixtures written in each data set's on-disk format, and on the real samples."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from clvae.data import DATASETS, DataError, build_dataset
from clvae.data.errors import BadFileWarning

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "samples"
CITYSCAPES_TRAIN_IDS = {0: 19, 1: 19, 7: 0, 23: 10, 26: 13}
FOLDER_CLASSES = [("sky", (0, 0, 255)), ("grass", (0, 200, 0)), ("road", (90, 90, 90)), ("car", (255, 0, 0))]


def blocky(width: int, height: int, values: list[int], seed: int, block: int = 4) -> np.ndarray:
    """A label map of constant block x block squares drawn from ``values``."""
    rng = np.random.default_rng(seed)
    coarse = rng.choice(values, size=(-(-height // block), -(-width // block)))
    return np.kron(coarse, np.ones((block, block), dtype=np.int64))[:height, :width].astype(np.uint8)


def save_photo(path: Path, width: int, height: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=95)


def save_grey(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label.astype(np.uint8), mode="L").save(path)


@dataclass
class Fixture:
    """A tiny data set on disk: how to build it, its pairs, and facts the tests check."""

    kind: str
    root: Path
    split: str | None  # None: the plain folder's flat layout
    options: dict
    images: list[Path] = field(default_factory=list)
    labels: list[Path] = field(default_factory=list)
    source_values: set[int] = field(default_factory=set)  # class ids the labels hold after decoding
    bad_value: int = 255  # a label value that is no class
    item_shape: tuple[int, int] = (32, 32)  # (H, W)

    def build(self, **changes):
        return build_dataset(self.kind, self.root, self.split, **{**self.options, **changes})

    def add(self, image: Path, label: Path, size: tuple[int, int], values: list[int]) -> None:
        seed = len(self.images)
        save_photo(image, *size, seed=seed)
        save_grey(label, blocky(*size, values, seed=seed))
        self.images.append(image)
        self.labels.append(label)


def ade20k_fixture(root: Path, folder: str = "training", split: str = "train") -> Fixture:
    fx = Fixture("ade20k", root, split, {"load_size": 36, "crop_size": 32, "seed": 0}, source_values={0, 1, 5, 150}, bad_value=151)
    for i, size in enumerate([(40, 30), (30, 40), (48, 36)]):
        name = f"ADE_{folder}_{i:08d}"
        fx.add(root / "images" / folder / f"{name}.jpg", root / "annotations" / folder / f"{name}.png", size, [0, 1, 5, 150])
    return fx


def gta5_fixture(root: Path) -> Fixture:
    fx = Fixture("gta5", root, "train", {"width": 32, "height": 16}, source_values={0, 2, 10, 19}, bad_value=20, item_shape=(16, 32))
    for i in range(3):
        name = f"{i + 1:08d}.png"
        fx.add(root / "RGB256Full" / "train" / name, root / "LabelgrayFull20" / "train" / name, (64, 32), [0, 2, 10, 19])
    return fx


def cityscapes_fixture(root: Path) -> Fixture:
    fx = Fixture(
        "cityscapes", root, "train", {"width": 32, "height": 16},
        source_values=set(CITYSCAPES_TRAIN_IDS.values()), bad_value=40, item_shape=(16, 32),
    )
    for i, city in enumerate(["aachen", "aachen", "bremen"]):
        stem = f"{city}_{i:06d}_000019"
        fx.add(
            root / "leftImg8bit" / "train" / city / f"{stem}_leftImg8bit.png",
            root / "gtFine" / "train" / city / f"{stem}_gtFine_labelIds.png",
            (64, 32), list(CITYSCAPES_TRAIN_IDS),
        )
    return fx


def deepfashion_fixture(root: Path) -> Fixture:
    fx = Fixture("deepfashion", root, "train", {"size": 32}, source_values={0, 1, 7, 8}, bad_value=16)
    for i in range(3):
        fx.add(root / "train" / f"id_{i:08d}_01_1_front.jpg", root / "train" / f"id_{i:08d}_01_1_front_label.png", (20, 40), [0, 1, 7, 8])
    return fx


def folder_fixture(root: Path) -> Fixture:
    write_classes_json(root)
    fx = Fixture("folder", root, None, {"load_size": 32, "crop_size": 32}, source_values={0, 1, 2, 3}, bad_value=4)
    for i in range(3):
        fx.add(root / "images" / f"scene{i}.png", root / "labels" / f"scene{i}.png", (40, 24), [0, 1, 2, 3])
    return fx


def write_classes_json(root: Path, classes=FOLDER_CLASSES) -> None:
    root.mkdir(parents=True, exist_ok=True)
    entries = [{"name": name, "color": list(color)} for name, color in classes]
    (root / "classes.json").write_text(json.dumps({"classes": entries}))


FIXTURES: dict[str, Callable[[Path], Fixture]] = {
    "ade20k": ade20k_fixture,
    "gta5": gta5_fixture,
    "cityscapes": cityscapes_fixture,
    "deepfashion": deepfashion_fixture,
    "folder": folder_fixture,
}
NUM_CLASSES = {"ade20k": 151, "gta5": 20, "cityscapes": 20, "deepfashion": 16, "folder": 4}


def assert_item_contract(item: dict, shape: tuple[int, int], num_classes: int) -> None:
    image, label = item["image"], item["label"]
    assert image.dtype == torch.float32 and image.shape == (3, *shape)
    assert label.dtype == torch.int64 and label.shape == shape
    assert image.min() >= -1.0 and image.max() <= 1.0
    assert label.min() >= 0 and label.max() < num_classes


# ---------------------------------------------------------------- tiny fixtures


@pytest.mark.parametrize("kind", FIXTURES)
def test_tiny_items_follow_the_contract(kind: str, tmp_path: Path) -> None:
    fx = FIXTURES[kind](tmp_path / kind)
    dataset = fx.build()
    assert len(dataset) == 3 and len(dataset.classes) == NUM_CLASSES[kind]
    for index in range(len(dataset)):
        item = dataset[index]
        assert_item_contract(item, fx.item_shape, NUM_CLASSES[kind])
        assert int(item["index"]) == index
        values = set(item["label"].unique().tolist())
        assert values <= fx.source_values, "resizing introduced label values"
        assert len(values) > 1


def test_indexing_past_the_end_raises_index_error(tmp_path: Path) -> None:
    dataset = gta5_fixture(tmp_path).build()
    assert int(dataset[-1]["index"]) == 2
    with pytest.raises(IndexError):
        dataset[3]
    assert len(list(dataset)) == 3


def test_registry_lists_every_kind() -> None:
    assert set(DATASETS) >= {"ade20k", "gta5", "cityscapes", "deepfashion", "folder"}


def test_ade20k_validation_resizes_to_crop_size(tmp_path: Path) -> None:
    fx = ade20k_fixture(tmp_path, folder="validation", split="val")
    dataset = fx.build()
    label = np.asarray(Image.open(fx.labels[0]))  # 40 x 30 -> 32 x 32, no crop
    rows, cols = ((np.arange(32) + 0.5) * 30 / 32).astype(int), ((np.arange(32) + 0.5) * 40 / 32).astype(int)
    expected = label[rows][:, cols]
    assert torch.equal(dataset[0]["label"], torch.from_numpy(expected.astype(np.int64)))


def test_ade20k_accepts_the_parent_of_adechallengedata2016(tmp_path: Path) -> None:
    ade20k_fixture(tmp_path / "ADEChallengeData2016")
    assert len(build_dataset("ade20k", tmp_path, "training", load_size=36, crop_size=32)) == 3


def test_random_crops_are_reproducible_and_change_with_the_epoch(tmp_path: Path) -> None:
    fx = ade20k_fixture(tmp_path)
    first, second = fx.build(seed=7), fx.build(seed=7)
    assert torch.equal(first[2]["image"], second[2]["image"])
    crops = []
    for epoch in range(6):
        first.set_epoch(epoch)
        crops.append(first[2]["label"])
    assert any(not torch.equal(crops[0], crop) for crop in crops[1:])
    unseeded = fx.build(seed=None)[2]
    assert unseeded["image"].shape == (3, 32, 32)


def test_items_batch_with_the_default_collate(tmp_path: Path) -> None:
    batch = next(iter(DataLoader(deepfashion_fixture(tmp_path).build(), batch_size=2)))
    assert batch["image"].shape == (2, 3, 32, 32) and batch["label"].shape == (2, 32, 32)
    assert batch["pad"].shape == (2, 4)


def test_cityscapes_maps_label_ids_to_train_ids(tmp_path: Path) -> None:
    fx = cityscapes_fixture(tmp_path)
    ids = np.zeros((32, 64), dtype=np.uint8)
    ids[:, :16], ids[:, 16:32], ids[:, 32:48], ids[:, 48:] = 7, 23, 26, 1
    save_grey(fx.labels[0], ids)
    label = fx.build()[0]["label"]
    assert label[:, :8].unique().tolist() == [0]  # road
    assert label[:, 8:16].unique().tolist() == [10]  # sky
    assert label[:, 16:24].unique().tolist() == [13]  # car
    assert label[:, 24:].unique().tolist() == [19]  # ego vehicle -> other


def test_deepfashion_pads_with_white_and_background(tmp_path: Path) -> None:
    fx = deepfashion_fixture(tmp_path)
    Image.new("RGB", (20, 40), (0, 0, 0)).save(fx.images[0], quality=95)
    save_grey(fx.labels[0], np.full((40, 20), 7))
    item = fx.build()[0]
    assert item["pad"].tolist() == [8, 0, 8, 0]  # 10-pixel bars of a 40 x 40 square, at 32 x 32
    image, label = item["image"], item["label"]
    assert torch.all(image[:, :, :8] == 1.0) and torch.all(image[:, :, 24:] == 1.0)
    assert torch.all(image[:, :, 8:24] < -0.9)
    assert torch.all(label[:, :8] == 0) and torch.all(label[:, 24:] == 0) and torch.all(label[:, 8:24] == 7)


def test_folder_rgb_labels_decode_like_grey_labels(tmp_path: Path) -> None:
    rgb_fx, grey_fx = folder_fixture(tmp_path / "rgb"), folder_fixture(tmp_path / "grey")
    ids = blocky(40, 24, [0, 1, 2, 3], seed=9)
    colours = np.array([color for _, color in FOLDER_CLASSES], dtype=np.uint8)
    Image.fromarray(colours[ids]).save(rgb_fx.labels[0])
    save_grey(grey_fx.labels[0], ids)
    assert torch.equal(rgb_fx.build()[0]["label"], grey_fx.build()[0]["label"])


def test_folder_unknown_colour_names_file_and_pixel(tmp_path: Path) -> None:
    fx = folder_fixture(tmp_path)
    rgb = np.zeros((24, 40, 3), dtype=np.uint8)
    rgb[...] = FOLDER_CLASSES[0][1]
    rgb[2, 5] = (1, 2, 3)
    Image.fromarray(rgb).save(fx.labels[1])
    with pytest.raises(DataError, match=re.escape(f"{fx.labels[1]}: colour (1, 2, 3) at x=5, y=2")):
        fx.build()[1]


def test_folder_rgb_labels_need_distinct_colours(tmp_path: Path) -> None:
    fx = folder_fixture(tmp_path)
    write_classes_json(tmp_path, FOLDER_CLASSES + [("twin", FOLDER_CLASSES[0][1])])
    Image.new("RGB", (40, 24), FOLDER_CLASSES[0][1]).save(fx.labels[0])
    with pytest.raises(DataError, match="several classes"):
        fx.build()[0]


def test_folder_accepts_the_ade20k_like_layout(tmp_path: Path) -> None:
    write_classes_json(tmp_path)
    fx = ade20k_fixture(tmp_path)
    for label in fx.labels:
        save_grey(label, blocky(*Image.open(label).size, [0, 3], seed=1))
    dataset = build_dataset("folder", tmp_path, "train", load_size=36, crop_size=32, seed=0)
    assert len(dataset) == 3 and [c.name for c in dataset.classes] == ["sky", "grass", "road", "car"]
    assert dataset[0]["label"].shape == (32, 32)
    assert set(dataset[0]["label"].unique().tolist()) <= {0, 3}


def test_folder_needs_classes_json(tmp_path: Path) -> None:
    fx = folder_fixture(tmp_path)
    (tmp_path / "classes.json").unlink()
    with pytest.raises(DataError, match="classes.json"):
        fx.build()


def test_folder_split_must_exist(tmp_path: Path) -> None:
    fx = folder_fixture(tmp_path)
    with pytest.raises(DataError, match="images/train/"):
        build_dataset("folder", fx.root, "train")


# ---------------------------------------------------------------- bad files


def label_out_of_range(fx: Fixture) -> Path:
    size = Image.open(fx.labels[0]).size
    label = blocky(*size, sorted(fx.source_values & {0, 1, 2}) or [0], seed=3)
    label[0, 0] = fx.bad_value
    save_grey(fx.labels[0], label)
    return fx.labels[0]


def corrupt_image(fx: Fixture) -> Path:
    fx.images[0].write_bytes(b"this is not an image at all")
    return fx.images[0]


def truncated_label(fx: Fixture) -> Path:
    fx.labels[0].write_bytes(fx.labels[0].read_bytes()[:60])
    return fx.labels[0]


def size_mismatch(fx: Fixture) -> Path:
    width, height = Image.open(fx.labels[0]).size
    save_grey(fx.labels[0], np.zeros((height, width + 2), dtype=np.uint8))
    return fx.labels[0]


ITEM_DEFECTS = {
    "label out of range": label_out_of_range,
    "corrupt image": corrupt_image,
    "truncated label": truncated_label,
    "size mismatch": size_mismatch,
}


@pytest.mark.parametrize("defect", ITEM_DEFECTS)
@pytest.mark.parametrize("kind", FIXTURES)
def test_bad_item_raises_naming_the_file(kind: str, defect: str, tmp_path: Path) -> None:
    fx = FIXTURES[kind](tmp_path)
    bad = ITEM_DEFECTS[defect](fx)
    dataset = fx.build(on_bad="error")
    with pytest.raises(DataError, match=re.escape(str(bad))):
        dataset[0]
    assert_item_contract(dataset[1], fx.item_shape, NUM_CLASSES[kind])


@pytest.mark.parametrize("defect", ITEM_DEFECTS)
@pytest.mark.parametrize("kind", FIXTURES)
def test_bad_item_is_skipped_with_a_warning(kind: str, defect: str, tmp_path: Path) -> None:
    fx = FIXTURES[kind](tmp_path)
    bad = ITEM_DEFECTS[defect](fx)
    dataset = fx.build(on_bad="skip")
    with pytest.warns(BadFileWarning, match=re.escape(str(bad))):
        item = dataset[0]
    assert int(item["index"]) == 1
    assert_item_contract(item, fx.item_shape, NUM_CLASSES[kind])


@pytest.mark.parametrize("kind", FIXTURES)
def test_image_without_label_is_found_at_construction(kind: str, tmp_path: Path) -> None:
    fx = FIXTURES[kind](tmp_path)
    fx.labels[1].unlink()
    with pytest.raises(DataError, match=re.escape(f"{fx.images[1]} has no label")):
        fx.build(on_bad="error")
    with pytest.warns(BadFileWarning, match=re.escape(str(fx.images[1]))):
        dataset = fx.build(on_bad="skip")
    assert len(dataset) == 2 and fx.images[1] not in [pair.image for pair in dataset.pairs]


def test_all_items_bad_is_an_error_even_when_skipping(tmp_path: Path) -> None:
    fx = gta5_fixture(tmp_path)
    for image in fx.images:
        image.write_bytes(b"broken")
    dataset = fx.build(on_bad="skip")
    with pytest.warns(BadFileWarning), pytest.raises(DataError, match="every one of the 3 pairs is bad"):
        dataset[0]


@pytest.mark.parametrize("kind", FIXTURES)
def test_missing_root_says_what_layout_was_expected(kind: str, tmp_path: Path) -> None:
    split = None if kind == "folder" else "train"
    with pytest.raises(DataError, match="expected"):
        build_dataset(kind, tmp_path / "absent", split)


@pytest.mark.parametrize("kind", FIXTURES)
def test_empty_split_says_what_layout_was_expected(kind: str, tmp_path: Path) -> None:
    fx = FIXTURES[kind](tmp_path)
    for image in fx.images:
        image.unlink()
    with pytest.raises(DataError, match="no image/label pairs.*expected"):
        fx.build()


def test_unknown_kind_split_and_on_bad_are_rejected(tmp_path: Path) -> None:
    gta5_fixture(tmp_path)
    with pytest.raises(ValueError, match="unknown data set kind"):
        build_dataset("mnist", tmp_path, "train")
    with pytest.raises(ValueError, match="unknown split 'holdout'"):
        build_dataset("gta5", tmp_path, "holdout")
    with pytest.raises(ValueError, match="on_bad"):
        build_dataset("gta5", tmp_path, "train", on_bad="ignore")


# ---------------------------------------------------------------- real samples


def samples_of(name: str) -> Path:
    folder = SAMPLES / name
    if not folder.is_dir():
        pytest.skip(f"real {name} samples not found at {folder} (shared data folder absent)")
    return folder


@pytest.mark.parametrize(
    "kind, split, count, shape",
    [
        ("ade20k", "train", 4, (256, 256)),
        ("ade20k", "val", 2, (256, 256)),
        ("gta5", "train", 4, (256, 512)),
        ("gta5", "test", 2, (256, 512)),
        ("deepfashion", "train", 4, (256, 256)),
        ("deepfashion", "test", 2, (256, 256)),
    ],
)
def test_real_samples(kind: str, split: str, count: int, shape: tuple[int, int]) -> None:
    dataset = build_dataset(kind, samples_of(kind), split, seed=0)
    assert len(dataset) == count
    for index in range(count):
        item = dataset[index]
        assert_item_contract(item, shape, len(dataset.classes))
        source = np.unique(np.asarray(Image.open(dataset.pairs[index].label)))
        assert set(item["label"].unique().tolist()) <= set(source.tolist())
        assert item["image"].std() > 0.05


def test_real_gta5_labels_are_kept_exactly() -> None:
    dataset = build_dataset("gta5", samples_of("gta5"), "test")
    source = np.asarray(Image.open(dataset.pairs[0].label), dtype=np.int64)
    assert torch.equal(dataset[0]["label"], torch.from_numpy(source))


def test_real_deepfashion_is_already_square() -> None:
    item = build_dataset("deepfashion", samples_of("deepfashion"), "test")[0]
    assert item["pad"].tolist() == [0, 0, 0, 0]
    assert 8 in item["label"].unique().tolist()  # the face the paper's selection requires
