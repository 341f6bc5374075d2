import numpy as np
import pytest
import torch

from clvae import edit as api
from clvae.data import build_dataset
from clvae.edit.feather import distance_to_region
from clvae.edit.sizing import image_to_model, label_to_model
from clvae.eval.evaluate import read_scene
from clvae.eval.style import change_inside, measured_classes
from clvae.model.codes import Codes
from clvae.model_io import BUNDLED_MODEL, load_synthesizer
from tests.edit.helpers import make_model, scene


def assert_codes_equal(a: Codes, b: Codes) -> None:
    for name, tensor in a.tensors().items():
        torch.testing.assert_close(tensor, b.tensors()[name], rtol=0, atol=0)


def close_images(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to one grey level (batched and single forward passes may round differently)."""
    return int(np.abs(a.astype(int) - b).max()) <= 1


# ---- generate ---------------------------------------------------------------------------------


def test_generate_is_deterministic_by_seed_and_differs_across_seeds(model, label):
    first = api.generate(model, label, n=3, seed=10)
    again = api.generate(model, label, n=3, seed=10)
    assert [r.seed for r in first] == [10, 11, 12]
    for a, b in zip(first, again):
        assert np.array_equal(a.image, b.image)
        assert_codes_equal(a.codes, b.codes)
    assert first[0].image.shape == (64, 64, 3) and first[0].image.dtype == np.uint8
    assert not np.array_equal(first[0].image, first[1].image)
    assert first[0].codes.batch_size == 1


def test_any_result_of_a_batch_is_remade_from_its_seed(model, label):
    batch = api.generate(model, label, n=3, seed=10)
    alone = api.generate(model, label, n=1, seed=batch[2].seed)[0]
    assert_codes_equal(alone.codes, batch[2].codes)
    assert close_images(alone.image, batch[2].image)


def test_generate_batches_report_progress_and_match_one_pass(model, label):
    calls = []
    small = api.generate(model, label, n=5, seed=3, max_batch=2, progress=lambda done, total: calls.append((done, total)))
    big = api.generate(model, label, n=5, seed=3, max_batch=8)
    assert calls == [(2, 5), (4, 5), (5, 5)]
    for a, b in zip(small, big):
        assert_codes_equal(a.codes, b.codes)
        assert close_images(a.image, b.image)


def test_generate_stops_when_cancelled_between_batches(model, label):
    asked = []

    def should_cancel():
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(api.Cancelled):
        api.generate(model, label, n=4, seed=0, max_batch=2, should_cancel=should_cancel)
    assert len(asked) == 2


def test_generate_without_seed_picks_and_reports_one(model, label):
    result = api.generate(model, label)[0]
    assert isinstance(result.seed, int)
    assert np.array_equal(api.generate(model, label, seed=result.seed)[0].image, result.image)


# ---- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("height, width", [(100, 37), (37, 100), (128, 128), (9, 200)])
def test_results_have_the_input_size(model, height, width):
    label = scene(height, width)
    assert api.generate(model, label, seed=0)[0].image.shape == (height, width, 3)
    image = np.zeros((50, 70, 3), np.uint8)
    ref = api.transfer(model, label, image, scene(50, 70), seed=0)
    assert ref.image.shape == (height, width, 3)


# ---- reroll -----------------------------------------------------------------------------------


def test_reroll_changes_only_the_chosen_classes_codes_at_the_chosen_layers(model, label):
    base = api.generate(model, label, seed=1)[0]
    result = api.reroll(model, label, base.codes, [2], layers=[1, 4], seed=7)
    for layer, code in result.codes.layers.items():
        before = base.codes.layers[layer]
        others = [c for c in range(5) if c != 2]
        assert torch.equal(code[:, others], before[:, others])
        assert torch.equal(code[:, 2], before[:, 2]) == (layer not in (1, 4))
    assert torch.equal(result.codes.z_global, base.codes.z_global)
    assert result.seed == 7


def test_reroll_takes_class_names_and_layer_groups(model, label):
    base = api.generate(model, label, seed=1)[0]
    by_name = api.reroll(model, label, base.codes, ["class2"], layers="coarse", seed=7)
    by_id = api.reroll(model, label, base.codes, [2], layers=api.layer_groups(model)["coarse"], seed=7)
    alone = api.reroll(model, label, base.codes, "class2", layers="coarse", seed=7)
    assert np.array_equal(by_name.image, by_id.image) and np.array_equal(alone.image, by_id.image)


@pytest.mark.parametrize("feather", [0, 3, 8])
def test_reroll_with_preservation_changes_no_pixel_beyond_the_feathered_region(model, feather):
    label = scene(100, 37)
    base = api.generate(model, label, seed=1)[0]
    free = api.reroll(model, label, base.codes, [3], seed=5)
    kept = api.reroll(model, label, base.codes, [3], seed=5, preserve=base.image, feather=feather)
    region = label == 3
    reach = distance_to_region(region, feather) < max(feather, 0.5)  # the region grown by `feather` pixels
    assert np.array_equal(kept.image[~reach], base.image[~reach])
    assert np.array_equal(kept.image[region], free.image[region])
    assert not np.array_equal(kept.image[region], base.image[region])


def test_reroll_without_preservation_changes_the_class_region(model, label):
    base = api.generate(model, label, seed=1)[0]
    result = api.reroll(model, label, base.codes, [3], seed=5)
    assert np.abs(result.image.astype(int) - base.image)[label == 3].mean() > 0


def test_edited_codes_carry_their_anchor_and_remake_their_image(model, label):
    base = api.generate(model, label, seed=1)[0]
    anchored = api.reroll(model, label, base.codes, [3], seed=5)
    assert_codes_equal(anchored.codes.anchor, base.codes)
    assert np.array_equal(api.render(model, label, anchored.codes).image, anchored.image)
    nudged = api.edit(model, label, anchored.codes, 2, strength=0.5, seed=6)
    assert_codes_equal(nudged.codes.anchor, base.codes)  # a chain keeps the first image's statistics
    assert np.array_equal(api.render(model, label, nudged.codes).image, nudged.image)
    plain = api.reroll(model, label, base.codes, [3], seed=5, anchor=False)
    assert plain.codes.anchor is None
    assert_codes_equal(plain.codes, anchored.codes.plain())
    assert np.array_equal(api.render(model, label, plain.codes).image, plain.image)
    assert not np.array_equal(anchored.image, plain.image)


def test_anchoring_keeps_more_of_a_reroll_inside_its_class_with_the_bundled_model():
    """Measured over the classes of two held-out scenes: the anchored share is higher."""
    model = load_synthesizer(BUNDLED_MODEL)
    scenes = build_dataset("procedural", None, "test", size=(model.cfg.height, model.cfg.width), length=2)
    shares = {True: [], False: []}
    for index in range(2):
        label = read_scene(scenes, index, model.cfg).label
        base = api.generate(model, label, seed=1)[0]
        for cls in measured_classes(label, model.cfg.num_classes, 16).tolist():
            for anchor, values in shares.items():
                after = api.reroll(model, label, base.codes, [cls], seed=5, anchor=anchor).image
                values.append(change_inside(base.image, after, label == cls))
    assert np.mean(shares[True]) > np.mean(shares[False]) + 0.1


# ---- transfer, reconstruct -------------------------------------------------------------------


def encoder_means(model, image, label) -> Codes:
    device = torch.device("cpu")
    with torch.no_grad():
        return model.encode(image_to_model(image, model.cfg, device), label_to_model(label, model.cfg, device)).mu


def test_transfer_from_an_image_to_its_own_mask_takes_the_encoders_means(model, label):
    image = api.generate(model, label, seed=2)[0].image
    means = encoder_means(model, image, label)
    result = api.transfer(model, label, image, label, seed=4)
    assert_codes_equal(result.codes, means)


def test_transfer_takes_only_the_shared_or_chosen_classes(model, label):
    image = api.generate(model, label, seed=2)[0].image
    ref_label = np.where(label == 4, 0, label)  # the reference has no class 4
    means = encoder_means(model, image, ref_label)
    prior = api.generate(model, label, seed=4)[0].codes
    result = api.transfer(model, label, image, ref_label, seed=4)
    chosen = api.transfer(model, label, image, ref_label, classes=["class1"], seed=4, take_global=False)
    for layer in model.cfg.code_layers:
        assert torch.equal(result.codes.layers[layer][:, :4], means.layers[layer][:, :4])
        assert torch.equal(result.codes.layers[layer][:, 4], prior.layers[layer][:, 4])
        assert torch.equal(chosen.codes.layers[layer][:, 1], means.layers[layer][:, 1])
        assert torch.equal(chosen.codes.layers[layer][:, 2:], prior.layers[layer][:, 2:])
    assert torch.equal(result.codes.z_global, means.z_global)
    assert torch.equal(chosen.codes.z_global, prior.z_global)
    with pytest.raises(api.EditError) as error:
        api.transfer(model, label, image, ref_label, classes=[4])
    assert error.value.code == "class_not_shared"


def test_reconstruct_uses_the_means(model, label):
    image = api.generate(model, label, seed=2)[0].image
    result = api.reconstruct(model, image, label)
    assert_codes_equal(result.codes, encoder_means(model, image, label))
    assert result.seed is None and result.image.shape == image.shape


# ---- edit -------------------------------------------------------------------------------------


def test_edit_interpolates_towards_a_seeded_prior_draw(model, label):
    base = api.generate(model, label, seed=1)[0]
    draw = api.generate(model, label, seed=9)[0].codes
    half = api.edit(model, label, base.codes, 2, "fine", "random", 0.5, seed=9)
    full = api.edit(model, label, base.codes, 2, "fine", "random", 1.0, seed=9)
    fine = api.layer_groups(model)["fine"]
    for layer in model.cfg.code_layers:
        old, new = base.codes.layers[layer][0, 2], draw.layers[layer][0, 2]
        expected = (old + new) / 2 if layer in fine else old
        torch.testing.assert_close(half.codes.layers[layer][0, 2], expected)
        assert torch.equal(full.codes.layers[layer][0, 2], new if layer in fine else old)
        assert torch.equal(half.codes.layers[layer][0, :2], base.codes.layers[layer][0, :2])
    unchanged = api.edit(model, label, base.codes, 2, None, "random", 0.0, seed=9)
    assert np.array_equal(unchanged.image, base.image)


def test_edit_along_a_random_direction_moves_by_strength_times_sqrt_n(model, label):
    base = api.generate(model, label, seed=1)[0]
    result = api.edit(model, label, base.codes, 1, [3], "direction", 2.0, seed=5)
    step = result.codes.layers[3][0, 1] - base.codes.layers[3][0, 1]
    assert step.norm().item() == pytest.approx(2.0 * model.cfg.code_channels ** 0.5, rel=1e-5)
    assert torch.equal(result.codes.layers[2], base.codes.layers[2])


def test_edit_towards_other_codes_and_beyond(model, label):
    base = api.generate(model, label, seed=1)[0]
    style = api.generate(model, label, seed=2)[0].codes
    result = api.edit(model, label, base.codes, 0, "all", style, 1.5)
    for layer in model.cfg.code_layers:
        old, new = base.codes.layers[layer][0, 0], style.layers[layer][0, 0]
        torch.testing.assert_close(result.codes.layers[layer][0, 0], old + 1.5 * (new - old))
    assert result.seed is None


# ---- layer groups -------------------------------------------------------------------------------


def test_layer_groups_default_split_and_model_override(model):
    assert api.layer_groups(model) == {"coarse": [3, 4, 5], "fine": [1, 2], "all": [1, 2, 3, 4, 5]}
    other = make_model()
    other.layer_groups = {"coarse": [5], "fine": [1, 2, 3]}
    assert api.layer_groups(other) == {"coarse": [5], "fine": [1, 2, 3], "all": [1, 2, 3, 4, 5]}
    assert api.resolve_layers(other, ["coarse", 2]) == [2, 5]
    other.layer_groups = {"coarse": [9]}
    with pytest.raises(api.EditError) as error:
        api.layer_groups(other)
    assert error.value.code == "bad_layer_groups"


def test_one_layer_models_have_it_in_both_groups():
    one_layer = make_model(variant="no_layerwise")
    (layer,) = one_layer.cfg.code_layers
    assert api.layer_groups(one_layer) == {"coarse": [layer], "fine": [layer], "all": [layer]}
