"""Every input check raises EditError with its code."""

import numpy as np
import pytest

from clvae import edit as api
from clvae.model.codes import Codes
from tests.edit.helpers import make_model, scene


def code_of(call) -> str:
    with pytest.raises(api.EditError) as error:
        call()
    assert str(error.value)  # a human message
    return error.value.code


@pytest.fixture
def base(model, label):
    return api.generate(model, label, seed=0)[0]


@pytest.mark.parametrize("bad, code", [
    (np.zeros((8, 8), np.float32), "bad_label"),
    (np.zeros((8, 8, 1), np.int64), "bad_label"),
    (np.zeros((1, 10), np.int64), "mask_too_small"),
    (np.zeros((0, 0), np.int64), "mask_too_small"),
    (np.full((8, 8), 5), "bad_class_id"),
    (np.full((8, 8), -1), "bad_class_id"),
])
def test_bad_label_maps(model, bad, code):
    assert code_of(lambda: api.generate(model, bad)) == code


@pytest.mark.parametrize("bad", [
    np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 4), np.uint8), np.zeros((64, 64), np.uint8),
])
def test_bad_images(model, label, bad):
    assert code_of(lambda: api.reconstruct(model, bad, label)) == "bad_image"


def test_mismatched_sizes(model, label, base):
    small = np.zeros((32, 64, 3), np.uint8)
    assert code_of(lambda: api.reconstruct(model, small, label)) == "size_mismatch"
    assert code_of(lambda: api.transfer(model, label, small, label)) == "size_mismatch"
    assert code_of(lambda: api.reroll(model, label, base.codes, [1], preserve=small)) == "size_mismatch"


def test_codes_from_another_model_or_batch(model, label, base):
    other = api.generate(make_model(classes=6), scene(classes=6), seed=0)[0].codes
    assert code_of(lambda: api.reroll(model, label, other, [1])) == "codes_mismatch"
    pair = Codes.cat([base.codes, base.codes])
    assert code_of(lambda: api.reroll(model, label, pair, [1])) == "codes_mismatch"
    assert code_of(lambda: api.reroll(model, label, "codes", [1])) == "bad_codes"


def test_nan_codes(model, label, base):
    broken = base.codes.clone()
    broken.layers[2][0, 1, 0] = float("nan")
    assert code_of(lambda: api.reroll(model, label, broken, [1])) == "nan_codes"
    assert code_of(lambda: api.edit(model, label, base.codes, 1, target=broken)) == "nan_codes"


def test_classes_must_exist_and_be_in_the_mask(model, label, base):
    for bad in (["nope"], [7], [-1], [True], []):
        assert code_of(lambda: api.reroll(model, label, base.codes, bad)) == "unknown_class"
    without_4 = np.where(label == 4, 0, label)
    assert code_of(lambda: api.reroll(model, without_4, base.codes, [4])) == "class_absent"
    assert code_of(lambda: api.edit(model, without_4, base.codes, 4)) == "class_absent"


def test_a_class_that_vanishes_at_the_model_size(model, base):
    label = np.zeros((640, 640), np.int64)
    label[1, 1] = 4  # nearest resizing to 64 x 64 samples every 10th pixel from 0: this one is lost
    assert code_of(lambda: api.reroll(model, label, base.codes, [4])) == "class_too_small"


@pytest.mark.parametrize("layers", [[9], ["medium"], [], "medium", [True]])
def test_layers_the_model_lacks(model, label, base, layers):
    assert code_of(lambda: api.reroll(model, label, base.codes, [1], layers=layers)) == "bad_layer"


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, 2**63])
def test_bad_seeds(model, label, seed):
    assert code_of(lambda: api.generate(model, label, seed=seed)) == "bad_seed"


def test_bad_counts_strengths_feathers_and_targets(model, label, base):
    assert code_of(lambda: api.generate(model, label, n=0)) == "bad_count"
    assert code_of(lambda: api.generate(model, label, n=2, max_batch=0)) == "bad_count"
    for strength in (-0.1, float("nan"), float("inf")):
        assert code_of(lambda: api.edit(model, label, base.codes, 1, strength=strength)) == "bad_strength"
    for feather in (-1, 2.5):
        assert code_of(lambda: api.reroll(model, label, base.codes, [1], feather=feather)) == "bad_feather"
    assert code_of(lambda: api.edit(model, label, base.codes, 1, target="sideways")) == "bad_target"


def test_models_without_encoder_or_class_codes():
    label = scene()
    gaugan, vae, shared = make_model(variant="gaugan"), make_model(variant="gaugan_vae"), make_model(variant="no_classwise")
    image = api.generate(gaugan, label, seed=0)[0].image
    assert code_of(lambda: api.reconstruct(gaugan, image, label)) == "no_encoder"
    assert code_of(lambda: api.transfer(gaugan, label, image, label)) == "no_encoder"
    vae_codes = api.generate(vae, label, seed=0)[0].codes
    assert code_of(lambda: api.reroll(vae, label, vae_codes, [1])) == "no_class_codes"
    shared_codes = api.generate(shared, label, seed=0)[0].codes
    assert code_of(lambda: api.edit(shared, label, shared_codes, 1)) == "no_class_codes"
    assert api.transfer(vae, label, image, label, seed=0).codes.z_global is not None
