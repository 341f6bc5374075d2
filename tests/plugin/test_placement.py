"""Which layer is the label layer, where results go, what they are called."""

from __future__ import annotations

import pytest

from clvae_krita.placement import (
    GROUP_NAME, LayerInfo, pick_label_layer, pick_reference_image, pick_result_layer, result_group,
    result_name, unique_name,
)

PAINT, GROUP = "paintlayer", "grouplayer"


def test_label_layer_is_the_first_named_like_labels():
    layers = [LayerInfo("a", "sketch", PAINT), LayerInfo("b", "Labels", PAINT), LayerInfo("c", "label map", PAINT)]
    assert pick_label_layer(layers, "a") == "b"


def test_without_a_labels_layer_the_active_paint_layer_is_used():
    layers = [LayerInfo("a", "sketch", PAINT), LayerInfo("g", "folder", GROUP)]
    assert pick_label_layer(layers, "a") == "a"
    assert pick_label_layer(layers, "g") is None
    assert pick_label_layer(layers, None) is None


def test_results_are_never_taken_for_labels():
    layers = [LayerInfo("g", GROUP_NAME, GROUP), LayerInfo("r", "labels seed 3", PAINT, "g"),
              LayerInfo("l", "labels", PAINT)]
    assert pick_label_layer(layers, "r") == "l"
    assert pick_label_layer(layers[:2], "r") is None


def test_reference_picture_is_the_top_layer_other_than_its_labels():
    layers = [LayerInfo("g", "folder", GROUP), LayerInfo("l", "labels", PAINT), LayerInfo("p", "photo", PAINT)]
    assert pick_reference_image(layers, "l") == "p"
    assert pick_reference_image(layers[:2], "l") is None


def test_result_group_is_the_sibling_of_the_label_layer():
    layers = [LayerInfo("g1", GROUP_NAME, GROUP, "outer"), LayerInfo("outer", "scene", GROUP),
              LayerInfo("g2", GROUP_NAME, GROUP), LayerInfo("l", "labels", PAINT, "outer")]
    assert result_group(layers, "l") == "g1"
    assert result_group([LayerInfo("l", "labels", PAINT)], "l") is None


def test_result_layer_choice():
    assert pick_result_layer(["r1", "r2"], "r2") == "r2"
    assert pick_result_layer(["r1", "r2"], "labels") == "r1"
    assert pick_result_layer([], "labels") is None


@pytest.mark.parametrize("args, name", [
    (("generate", 42), "seed 42"),
    (("reroll", 7, "sky"), "sky re-rolled, seed 7"),
    (("edit", 7, "sky", 0.25), "sky nudged 0.25, seed 7"),
    (("transfer", 3, None, None, "beach: photo"), "style of beach: photo, seed 3"),
])
def test_names_say_how_and_with_which_seed(args, name):
    assert result_name(*args) == name


def test_unknown_operation_is_refused():
    with pytest.raises(ValueError):
        result_name("paint", 1)


def test_unique_names():
    assert unique_name("seed 1", ["seed 2"]) == "seed 1"
    assert unique_name("seed 1", ["seed 1", "seed 1 (2)"]) == "seed 1 (3)"
