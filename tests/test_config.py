import pytest

from clvae.config import ClassInfo, ModelConfig
from tests.conftest import tiny_config


def test_round_trip_through_a_dict():
    cfg = tiny_config("no_layerwise", 64, 96)
    again = ModelConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert isinstance(again.classes[0], ClassInfo)


def test_defaults_follow_the_paper():
    cfg = tiny_config(classes=151)
    assert cfg.code_channels == 151  # N = C
    assert cfg.code_layers == (1, 2, 3, 4, 5)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(variant="stylegan"), "variant"),
        (dict(height=48), "multiples of 32"),
        (dict(height=32, width=32), "too small"),
        (dict(upsampling="huge"), "upsampling"),
        (dict(encoder_layers=6, encoder_size=64), "encoder_size"),
        (dict(norm_G="layer"), "norm_G"),
    ],
)
def test_invalid_configs_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**changes)


def test_unknown_keys_are_rejected():
    d = tiny_config().to_dict()
    d["colour_depth"] = 3
    with pytest.raises(ValueError, match="colour_depth"):
        ModelConfig.from_dict(d)
