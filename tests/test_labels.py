import numpy as np
import pytest
from PIL import Image

from clvae.data.procedural.classes import CLASSES
from clvae.edit import EditError
from clvae.labels import label_from_picture, label_to_picture, read_label, write_label

PALETTE = np.array([c.color for c in CLASSES], np.uint8)
SKY, GRASS, WALL, WINDOW, ROAD = 0, 6, 8, 10, 11


def painted() -> np.ndarray:
    """A (40, 60) label map of sky | grass over wall with a window."""
    label = np.full((40, 60), SKY)
    label[:, 30:] = GRASS
    label[20:] = WALL
    label[25:, 40:] = WINDOW
    return label


def antialiased(label: np.ndarray) -> np.ndarray:
    """The label's colour picture with blended pixels along its edges, as a brush paints them."""
    picture = label_to_picture(label, CLASSES).astype(np.float32)
    picture[:20, 30] = 0.5 * PALETTE[SKY] + 0.5 * PALETTE[GRASS]
    picture[25, 40:] = 0.3 * PALETTE[WALL] + 0.7 * PALETTE[WINDOW]  # wall-window blend, near road's grey
    picture[20, :30] = 0.8 * PALETTE[WALL] + 0.2 * PALETTE[SKY]
    return np.rint(picture).astype(np.uint8)


def test_antialiased_edges_take_the_class_of_a_blended_neighbour():
    label, report = label_from_picture(antialiased(painted()), CLASSES)
    assert np.array_equal(label, painted())
    assert report.kind == "colour" and report.far == 0 and report.snapped == 20 + 20 + 30


def test_noisy_colours_near_the_palette_snap_to_it():
    picture = label_to_picture(painted(), CLASSES).astype(np.int16)
    picture += np.random.default_rng(0).integers(-8, 9, picture.shape, dtype=np.int16)
    label, report = label_from_picture(np.clip(picture, 0, 255).astype(np.uint8), CLASSES)
    assert np.array_equal(label, painted()) and report.far == 0


def test_far_pixels_are_an_error_that_says_how_many_and_where_unless_snapped():
    picture = antialiased(painted())
    picture[5:7, 10:13] = (255, 0, 255)
    with pytest.raises(EditError) as error:
        label_from_picture(picture, CLASSES)
    assert error.value.code == "off_palette"
    message = str(error.value)
    assert "6 pixels" in message and "x 10..12, y 5..6" in message and "(10, 5)" in message
    label, report = label_from_picture(picture, CLASSES, snap=True)
    assert report.far == 6 and report.far_box == (10, 5, 12, 6)
    nearest = np.linalg.norm(PALETTE.astype(float) - (255, 0, 255), axis=1).argmin()
    assert (label[5:7, 10:13] == nearest).all()
    assert label_from_picture(picture, CLASSES, threshold=200)[1].far == 0


@pytest.mark.parametrize("mode", ["L", "I;16", "P"])
def test_class_index_pngs_in_every_mode(tmp_path, mode):
    label = painted()
    image = Image.fromarray(label.astype(np.uint16 if mode == "I;16" else np.uint8))
    if mode == "P":
        image = image.convert("P")  # a grey palette: not the classes' colours
    image.save(tmp_path / "label.png")
    read, report = read_label(tmp_path / "label.png", CLASSES)
    assert np.array_equal(read, label) and report.kind == "index"


def test_colour_pictures_in_rgb_rgba_and_palette_pngs(tmp_path):
    picture = antialiased(painted())
    Image.fromarray(picture).save(tmp_path / "rgb.png")
    Image.fromarray(picture).convert("RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(label_to_picture(painted(), CLASSES)).quantize(colors=16, method=Image.Quantize.MAXCOVERAGE,
                                                                   dither=Image.Dither.NONE).save(tmp_path / "p.png")
    for name in ("rgb.png", "rgba.png", "p.png"):
        label, report = read_label(tmp_path / name, CLASSES)
        assert np.array_equal(label, painted()) and report.kind == "colour", name


def test_write_label_round_trips_small_and_large_class_counts(tmp_path):
    for top in (11, 300):
        label = np.arange(40 * 60).reshape(40, 60) % (top + 1)
        write_label(tmp_path / f"{top}.png", label)
        assert np.array_equal(read_label(tmp_path / f"{top}.png", CLASSES)[0], label)


def test_unreadable_files_are_edit_errors(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    for path in (tmp_path / "bad.png", tmp_path / "missing.png"):
        with pytest.raises(EditError) as error:
            read_label(path, CLASSES)
        assert error.value.code == "bad_file"
