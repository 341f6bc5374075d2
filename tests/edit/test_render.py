"""``render``: fixed codes, any label map. The same label and codes give the same pixels;
a stroke in the label map changes the picture near it, and little far from it (measured
here with the bundled model, or a random-weight model of its architecture where it is not
installed; docs/plugin.md)."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from clvae import edit as api
from clvae.data.procedural import CLASSES
from clvae.edit.feather import distance_to_region
from tests.edit.helpers import bundled_model

CANVAS = 512
BRUSH = 12  # radius in pixels of a painted dab
FAR = 128  # pixels from the stroke that count as far


def test_render_of_a_results_own_label_and_codes_remakes_it(model, label):
    made = api.generate(model, label, n=1, seed=4)[0]
    again = api.render(model, label, made.codes)
    assert np.array_equal(again.image, made.image)
    assert again.seed is None
    assert torch.equal(again.codes.z_global, made.codes.z_global)


def test_render_marks_the_codes_as_made_for_the_new_label(model, label):
    made = api.generate(model, label, n=1, seed=4)[0]
    without_class_4 = np.where(label == 4, 0, label)
    rendered = api.render(model, without_class_4, made.codes)
    assert made.codes.present[0, 4] and not rendered.codes.present[0, 4]
    for layer, code in made.codes.layers.items():
        assert torch.equal(rendered.codes.layers[layer], code)


def test_render_checks_its_codes(model, label):
    made = api.generate(model, label, n=1, seed=4)[0]
    broken = made.codes.clone()
    broken.z_global[0, 0] = float("nan")
    with pytest.raises(api.EditError) as error:
        api.render(model, label, broken)
    assert error.value.code == "nan_codes"


def landscape() -> np.ndarray:
    """Sky over mountains over grass with a tree block, CANVAS x CANVAS."""
    ids = {info.name: i for i, info in enumerate(CLASSES)}
    label = np.full((CANVAS, CANVAS), ids["sky"], np.uint8)
    label[CANVAS * 2 // 5:] = ids["mountain"]
    label[CANVAS * 13 // 20:] = ids["grass"]
    label[CANVAS * 3 // 4: CANVAS * 15 // 16, CANVAS * 9 // 16: CANVAS * 7 // 8] = ids["tree"]
    return label


def dab(label: np.ndarray, y: int, x: int, class_id: int) -> np.ndarray:
    rows, columns = np.ogrid[:CANVAS, :CANVAS]
    painted = label.copy()
    painted[(rows - y) ** 2 + (columns - x) ** 2 <= BRUSH**2] = class_id
    return painted


@pytest.mark.parametrize("y, x, name", [(100, 150, "mountain"), (300, 400, "grass"), (420, 100, "tree")])
def test_a_stroke_changes_the_picture_near_it_and_little_far_from_it(y, x, name):
    model = bundled_model()
    label = landscape()
    made = api.generate(model, label, n=1, seed=5)[0]
    painted = dab(label, y, x, next(i for i, info in enumerate(CLASSES) if info.name == name))
    after = api.render(model, painted, made.codes).image
    change = np.abs(after.astype(int) - made.image.astype(int)).max(axis=2)
    distance = distance_to_region(painted != label, CANVAS)
    assert change[distance == 0].mean() > 10
    far = change[distance > FAR]
    assert far.mean() < 1.5 and np.percentile(far, 99) <= 6, (far.mean(), np.percentile(far, 99), far.max())
