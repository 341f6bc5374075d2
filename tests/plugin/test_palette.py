"""Label-layer pixels -> class ids: exact colours, antialiased edges, far colours with their
positions, transparent pixels, large palettes, and the speed of a 512 x 512 layer."""

from __future__ import annotations

import time

import pytest

from clvae_krita.palette import (
    FAR, ClassColour, LabelError, Palette, read_label_pixels,
)
from tests.plugin.helpers import GRASS, PALETTE, ROCK, SKY, TREE, bgra, blend, painted


def test_exact_colours_map_to_their_classes_in_bgra_order():
    rows = [[SKY, GRASS, TREE], [ROCK, SKY, GRASS]]
    label = read_label_pixels(painted(rows), 3, 2, PALETTE)
    assert list(label.ids) == [SKY, GRASS, TREE, ROCK, SKY, GRASS]
    assert (label.width, label.height, label.dtype) == (3, 2, "uint8")
    assert label.classes() == [SKY, GRASS, TREE, ROCK]


def test_red_and_blue_are_not_swapped():
    palette = Palette([ClassColour(0, "red", (250, 0, 0)), ClassColour(1, "blue", (0, 0, 250))])
    assert list(read_label_pixels(bgra((250, 0, 0)) + bgra((0, 0, 250)), 2, 1, palette).ids) == [0, 1]


@pytest.mark.parametrize("t, expected", [(0.2, SKY), (0.45, SKY), (0.55, ROCK), (0.9, ROCK)])
def test_antialiased_edge_takes_the_nearer_of_the_two_blended_classes(t, expected):
    edge = blend(PALETTE.by_id[SKY].rgb, PALETTE.by_id[ROCK].rgb, t)
    assert list(read_label_pixels(bgra(edge), 1, 1, PALETTE).ids) == [expected]


def test_blend_beats_a_third_colour_that_is_nearer():
    palette = Palette([ClassColour(0, "black", (0, 0, 0)), ClassColour(1, "light", (200, 200, 200)),
                       ClassColour(2, "olive", (60, 80, 60))])
    edge = blend((0, 0, 0), (200, 200, 200), 0.3)  # (60, 60, 60): 20 from olive, on the black-light line
    assert palette.classify(edge) == 0


def test_slightly_off_colour_snaps_to_the_nearest_class():
    r, g, b = PALETTE.by_id[GRASS].rgb
    assert PALETTE.classify((r + 15, g - 10, b + 12)) == GRASS


def test_far_colour_is_reported_with_count_and_positions_not_guessed():
    rows = [[SKY] * 5 for _ in range(4)]
    pixels = bytearray(painted(rows))
    magenta = bgra((255, 0, 255))
    for x, y in [(1, 1), (4, 2), (2, 3)]:
        pixels[4 * (y * 5 + x): 4 * (y * 5 + x) + 4] = magenta
    with pytest.raises(LabelError) as caught:
        read_label_pixels(bytes(pixels), 5, 4, PALETTE)
    (problem,) = caught.value.problems
    assert (problem.kind, problem.count, problem.first, problem.last) == ("far", 3, (1, 1), (2, 3))
    assert "#ff00ff" in str(caught.value) and "(1, 1)" in str(caught.value) and "(2, 3)" in str(caught.value)
    assert PALETTE.classify((255, 0, 255)) == FAR


def test_transparent_pixels_are_reported_unless_a_class_is_chosen_for_them():
    pixels = painted([[SKY, GRASS]]) + bytes(8)  # second row: fully transparent
    with pytest.raises(LabelError) as caught:
        read_label_pixels(pixels, 2, 2, PALETTE)
    (problem,) = caught.value.problems
    assert (problem.kind, problem.count, problem.first, problem.last) == ("transparent", 2, (0, 1), (1, 1))
    assert "transparent" in str(caught.value)
    assert list(read_label_pixels(pixels, 2, 2, PALETTE, transparent=TREE).ids) == [SKY, GRASS, TREE, TREE]


def test_faint_stroke_edges_count_as_transparent_and_strong_ones_as_their_colour():
    sky = PALETTE.by_id[SKY].rgb
    label = read_label_pixels(bgra(sky, 40) + bgra(sky, 200), 2, 1, PALETTE, transparent=ROCK)
    assert list(label.ids) == [ROCK, SKY]


def test_unknown_transparent_class_is_refused():
    with pytest.raises(LabelError, match="not in the model's palette"):
        read_label_pixels(painted([[SKY]]), 1, 1, PALETTE, transparent=99)


def test_wrong_buffer_size_is_refused():
    with pytest.raises(LabelError, match="expected 16 bytes"):
        read_label_pixels(painted([[SKY]]), 2, 2, PALETTE)


def test_more_than_256_classes_give_uint16_ids():
    classes = [ClassColour(i, f"c{i}", (i % 256, (i * 7) % 256, i // 256 * 100)) for i in range(300)]
    palette = Palette(classes)
    pixels = b"".join(bgra(classes[i].rgb) for i in (0, 299, 150))
    label = read_label_pixels(pixels, 3, 1, palette)
    assert label.dtype == "uint16" and list(label.ids) == [0, 299, 150]
    assert label.little_endian_bytes() == bytes([0, 0, 43, 1, 150, 0])


def test_512_square_with_antialiased_edges_reads_fast():
    """Blocks of four classes with a one-pixel blended seam between neighbours."""
    size = 512
    ids = [[(x // 128 + y // 128) % 4 for x in range(size)] for y in range(size)]
    rows = []
    for y in range(size):
        row = bytearray(painted([ids[y]]))
        for x in range(127, size - 1, 128):
            edge = blend(PALETTE.by_id[ids[y][x]].rgb, PALETTE.by_id[ids[y][x + 1]].rgb, 0.4)
            row[4 * x: 4 * x + 4] = bgra(edge)
        rows.append(bytes(row))
    pixels = b"".join(rows)
    started = time.perf_counter()
    label = read_label_pixels(pixels, size, size, PALETTE)
    seconds = time.perf_counter() - started
    assert list(label.ids[:size]) == ids[0]
    assert seconds < 2.0, f"reading a 512 x 512 label layer took {seconds:.2f} s"
    print(f"512 x 512 label layer read in {1e3 * seconds:.0f} ms")
