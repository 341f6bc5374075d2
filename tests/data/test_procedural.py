"""The procedural scene generator: determinism, contract, layouts, and styles that can be measured."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from clvae.config import ClassInfo
from clvae.data.procedural import (
    CLASS_ID,
    CLASSES,
    ProceduralScenes,
    class_statistics,
    export_procedural,
    render_scene,
    sample_class_style,
    sample_factors,
)
from clvae.data.procedural.__main__ import main
from clvae.data.procedural.factors import STYLE_RANGES
from clvae.data.procedural.textures import PATTERNS

# Our name -> ADE20K's, for the classes ADE20K has.
ADE20K_NAMES = {
    "sky": "sky", "mountain": "mountain", "water": "water", "sand": "sand", "grass": "grass",
    "tree": "tree", "wall": "wall", "window": "windowpane", "road": "road",
}  # fmt: skip
NUM_CLASSES = len(CLASSES)


@pytest.fixture(scope="module")
def scenes_64():
    """60 scenes at 64 x 64: (rgb, label, factors)."""
    return [render_scene(0, i, 64, 64) for i in range(60)]


def test_classes_are_named_and_coloured_apart():
    assert [c.name for c in CLASSES][:4] == ["sky", "cloud", "sun", "mountain"]
    assert all(isinstance(c, ClassInfo) for c in CLASSES) and len(CLASSES) == 12
    assert CLASS_ID == {c.name: i for i, c in enumerate(CLASSES)}
    colours = np.array([c.color for c in CLASSES], float)
    distance = np.linalg.norm(colours[:, None] - colours[None], axis=-1) + np.eye(NUM_CLASSES) * 1e9
    assert distance.min() > 30  # ADE20K's wall and road are the closest pair
    for name in set(CLASS_ID) - set(ADE20K_NAMES):
        assert distance[CLASS_ID[name]].min() >= 100, name


def test_colours_are_ade20k_colours_of_the_same_names():
    palettes = pytest.importorskip("clvae.data.palettes")
    ade = {c.name: c.color for c in palettes.load_palette("ade20k")}
    for ours, theirs in ADE20K_NAMES.items():
        assert CLASSES[CLASS_ID[ours]].color == ade[theirs], ours


def test_every_class_has_a_style_range_of_known_textures():
    assert set(STYLE_RANGES) == set(CLASS_ID)
    assert all(set(r.textures) <= set(PATTERNS) for r in STYLE_RANGES.values())


def test_render_is_deterministic_and_depends_on_seed_and_index():
    first = render_scene(3, 17, 48, 64)
    again = render_scene(3, 17, 48, 64)
    assert all(np.array_equal(a, b) for a, b in zip(first[:2], again[:2])) and first[2] == again[2]
    assert not np.array_equal(render_scene(4, 17, 48, 64)[0], first[0])
    assert not np.array_equal(render_scene(3, 18, 48, 64)[0], first[0])


@pytest.mark.parametrize("height, width", [(64, 64), (96, 160), (160, 96), (37, 53)])
def test_render_shapes_dtypes_and_label_range(height, width):
    rgb, label, factors = render_scene(0, 5, height, width)
    assert rgb.shape == (height, width, 3) and rgb.dtype == np.uint8
    assert label.shape == (height, width) and label.dtype == np.uint8
    assert label.max() < NUM_CLASSES
    assert label[0].tolist().count(CLASS_ID["sky"]) > 0  # sky at the top
    assert set(factors["classes"]) == set(CLASS_ID)


def test_layout_is_the_same_at_every_resolution():
    small = render_scene(0, 9, 64, 96)[1]
    large = render_scene(0, 9, 128, 192)[1]
    assert (small == large[1::2, 1::2]).mean() > 0.9


def test_classes_appear_in_some_scenes_and_not_in_others(scenes_64):
    present = np.array([np.bincount(label.ravel(), minlength=NUM_CLASSES) > 0 for _, label, _ in scenes_64])
    assert present.any(axis=0).all(), [c.name for c, seen in zip(CLASSES, present.any(axis=0)) if not seen]
    sometimes_absent = ~present.all(axis=0)
    assert sometimes_absent.sum() >= NUM_CLASSES - 2  # sky, and maybe grass, may be everywhere


def test_small_and_large_classes_occur(scenes_64):
    share = np.array([np.bincount(label.ravel(), minlength=NUM_CLASSES) / label.size for _, label, _ in scenes_64])
    assert np.median(share[:, CLASS_ID["sky"]]) > 0.2
    for small in ("window", "sun"):
        shown = share[:, CLASS_ID[small]][share[:, CLASS_ID[small]] > 0]
        assert shown.size >= 3 and np.median(shown) < 0.03, small


def test_houses_stand_on_the_ground_and_sky_is_above_it(scenes_64):
    for _, label, _ in scenes_64:
        rows = np.arange(label.shape[0])[:, None].repeat(label.shape[1], 1)
        ground = np.isin(label, [CLASS_ID[n] for n in ("grass", "sand", "road", "water")])
        if ground.any() and (label == CLASS_ID["sky"]).any():
            assert rows[label == CLASS_ID["sky"]].mean() < rows[ground].mean()
        roof, wall = label == CLASS_ID["roof"], label == CLASS_ID["wall"]
        if wall.sum() > 20 and roof.sum() > 20:
            assert rows[roof].mean() < rows[wall].mean()


def test_factors_are_plain_data_independent_of_size():
    factors = render_scene(2, 4, 32, 48)[2]
    assert json.loads(json.dumps(factors)) == factors
    assert factors == render_scene(2, 4, 80, 40)[2] == sample_factors(2, 4)
    assert factors["global"]["time_of_day"] and len(factors["global"]["tint"]) == 3
    for name, style in factors["classes"].items():
        assert len(style["color"]) == 3 and style["texture"]["kind"] in STYLE_RANGES[name].textures


def test_factors_differ_between_scenes_and_classes_vary():
    roofs = [sample_factors(0, i)["classes"]["roof"] for i in range(40)]
    hues = np.array([r["hsv"][0] for r in roofs])
    assert (hues < 20).any() and (hues > 195).any()  # red and blue roofs
    assert len({r["texture"]["kind"] for r in roofs}) >= 3


def _scene_with(class_name: str, min_pixels: int, size=(96, 96)) -> int:
    return next(i for i in range(200) if (render_scene(0, i, *size)[1] == CLASS_ID[class_name]).sum() >= min_pixels)


def test_restyling_one_class_changes_that_class_only():
    index = _scene_with("roof", 40)
    rgb, label, factors = render_scene(0, index, 96, 96)
    restyled = json.loads(json.dumps(factors))
    restyled["classes"]["roof"] = sample_class_style("roof", np.random.default_rng(12345))
    new_rgb, new_label, _ = render_scene(0, index, 96, 96, factors=restyled)
    roof = label == CLASS_ID["roof"]
    assert np.array_equal(new_label, label)
    assert np.array_equal(new_rgb[~roof], rgb[~roof])
    before, after = (class_statistics(x, label, NUM_CLASSES).mean_color for x in (rgb, new_rgb))
    assert np.abs(after[CLASS_ID["roof"]] - before[CLASS_ID["roof"]]).max() > 0.02
    others = np.arange(NUM_CLASSES) != CLASS_ID["roof"]
    assert np.allclose(after[others], before[others], equal_nan=True)


def test_measured_colour_tracks_factor_colour(scenes_64):
    expected, measured = [], []
    for rgb, label, factors in scenes_64:
        stats = class_statistics(rgb, label, NUM_CLASSES)
        lighting = np.array(factors["global"]["tint"]) * factors["global"]["brightness"]
        for class_id in np.flatnonzero(stats.pixels >= 30):
            colour = np.array(factors["classes"][CLASSES[class_id].name]["color"])
            expected.append(np.clip(colour * lighting, 0, 1))
            measured.append(stats.mean_color[class_id])
    error = np.abs(np.array(expected) - np.array(measured)).max(axis=1)
    assert len(error) > 200
    assert np.median(error) < 0.01 and np.percentile(error, 90) < 0.05
    assert np.corrcoef(np.ravel(expected), np.ravel(measured))[0, 1] > 0.98


def test_measured_texture_is_zero_for_flat_and_clear_for_patterns(scenes_64):
    for rgb, label, factors in scenes_64:
        stats = class_statistics(rgb, label, NUM_CLASSES)
        for class_id in np.flatnonzero(stats.pixels >= 50):
            texture = factors["classes"][CLASSES[class_id].name]["texture"]
            if texture["kind"] == "flat":
                assert stats.texture[class_id] == 0
            elif texture["kind"] in ("stripes", "waves", "bricks", "tiles"):
                assert stats.texture[class_id] > 0.01


def test_measured_texture_grows_with_texture_contrast():
    index = _scene_with("grass", 500, (64, 64))
    factors = sample_factors(0, index)
    factors["classes"]["grass"]["texture"]["kind"] = "noise"

    def grass_texture(contrast: float) -> float:
        factors["classes"]["grass"]["texture"]["contrast"] = contrast
        rgb, label, _ = render_scene(0, index, 64, 64, factors=factors)
        return class_statistics(rgb, label, NUM_CLASSES).texture[CLASS_ID["grass"]]

    assert grass_texture(0.2) > 2.5 * grass_texture(0.05) > 0


def test_class_statistics_on_a_known_image():
    label = np.zeros((4, 6), np.uint8)
    label[:, 3:] = 2
    image = np.zeros((4, 6, 3), np.uint8)
    image[:, :3] = (255, 0, 0)
    image[:, 3:] = np.array([0, 255, 0])[None, None] * (np.indices((4, 3)).sum(0) % 2)[..., None]  # green checkers
    stats = class_statistics(image, label, 3)
    assert stats.pixels.tolist() == [12, 0, 12]
    assert np.allclose(stats.mean_color[0], (1, 0, 0)) and np.allclose(stats.mean_color[2], (0, 0.5, 0))
    assert np.isnan(stats.mean_color[1]).all() and np.isnan(stats.texture[1])
    assert stats.texture[0] == 0 and stats.texture[2] == pytest.approx(0.587)  # every step is a full green swing
    assert np.allclose(class_statistics(image / 255.0, label, 3).mean_color[2], (0, 0.5, 0))


def test_dataset_items_follow_the_contract():
    scenes = ProceduralScenes(size=(48, 80), length=5, seed=1)
    assert len(scenes) == 5 and scenes.classes == CLASSES
    item = scenes[2]
    assert item["image"].shape == (3, 48, 80) and item["image"].dtype == torch.float32
    assert item["label"].shape == (48, 80) and item["label"].dtype == torch.int64
    assert -1 <= item["image"].min() and item["image"].max() <= 1
    rgb, label, factors = render_scene(1, 2, 48, 80)
    assert torch.equal(item["label"], torch.from_numpy(label.astype(np.int64)))
    assert torch.allclose((item["image"] + 1) * 127.5, torch.from_numpy(rgb).permute(2, 0, 1).float(), atol=1e-3)
    assert scenes.factors(2) == factors
    with pytest.raises(IndexError):
        scenes[5]
    validation = ProceduralScenes(size=(48, 80), length=5, seed=1, split="validation")
    assert not torch.equal(validation[2]["image"], item["image"])


def test_dataset_is_independent_of_order_and_worker_processes():
    scenes = ProceduralScenes(size=(32, 32), length=6, seed=7)
    forward = [scenes[i]["image"] for i in range(6)]
    backward = [scenes[i]["image"] for i in reversed(range(6))][::-1]
    assert all(torch.equal(a, b) for a, b in zip(forward, backward))
    loader = torch.utils.data.DataLoader(scenes, batch_size=3, num_workers=2)
    assert torch.equal(torch.cat([batch["image"] for batch in loader]), torch.stack(forward))


def test_export_writes_an_ade20k_style_folder(tmp_path):
    export_procedural(tmp_path, n_train=3, n_val=2, size=(32, 48), seed=5)
    document = json.loads((tmp_path / "classes.json").read_text())
    assert [ClassInfo.from_dict(c) for c in document["classes"]] == CLASSES
    for split, count in (("training", 3), ("validation", 2)):
        images = sorted((tmp_path / "images" / split).glob("*.png"))
        labels = sorted((tmp_path / "annotations" / split).glob("*.png"))
        assert len(images) == len(labels) == count and [p.name for p in images] == [p.name for p in labels]
        assert len((tmp_path / "factors" / f"{split}.jsonl").read_text().splitlines()) == count
    rgb, label, _ = render_scene(5, 1, 32, 48)
    with Image.open(tmp_path / "annotations" / "training" / "scene_0000001.png") as grey:
        assert grey.mode == "L" and np.array_equal(np.asarray(grey), label)
    with Image.open(tmp_path / "images" / "training" / "scene_0000001.png") as image:
        assert np.array_equal(np.asarray(image), rgb)


def test_export_is_readable_by_the_folder_loader(tmp_path):
    folder = pytest.importorskip("clvae.data.folder")
    export_procedural(tmp_path, n_train=2, n_val=1, size=(32, 32), seed=0)
    scenes = folder.folder_dataset(tmp_path, "training", load_size=32, crop_size=32)
    assert len(scenes) == 2 and list(scenes.classes) == CLASSES
    assert torch.equal(scenes[1]["label"], torch.from_numpy(render_scene(0, 1, 32, 32)[1].astype(np.int64)))


def test_command_line_exports_and_draws_a_grid(tmp_path):
    main(["--out", str(tmp_path / "set"), "--train", "2", "--val", "1", "--size", "24x40"])
    main(["--grid", str(tmp_path / "grid.png"), "--size", "24x40"])
    assert len(list((tmp_path / "set" / "images" / "training").glob("*.png"))) == 2
    with Image.open(tmp_path / "set" / "images" / "validation" / "scene_0000000.png") as image:
        assert image.size == (40, 24)
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (4 * 80 + 3 * 4, 4 * 24 + 3 * 4)
