"""Named groups of code layers for material editing (section 4.4.3, Figure 15).

Encoder layer l's codes feed the generator block at scale l (``describe_conditioning``):
the deep, low-resolution layers feed the first blocks and set an object's global look
(colour), the shallow, high-resolution ones feed the last blocks and set local features
(edges, texture). "coarse" = the deeper half of the code layers, "fine" = the shallower
half, "all" = every one. That split is a default guess; a model file can carry measured
groups, which ``load_synthesizer`` puts on the model as ``model.layer_groups``
(``{"coarse": [...], "fine": [...]}``).
"""

from __future__ import annotations

from typing import Iterable, Optional

from torch import nn

from clvae.config import ModelConfig
from clvae.edit.errors import EditError

LAYER_GROUPS_ATTR = "layer_groups"
GROUP_NAMES = ("coarse", "fine", "all")
LayerSpec = Optional[str | Iterable[int | str]]  # None = all, a group name, or layers / group names


def default_layer_groups(cfg: ModelConfig) -> dict[str, list[int]]:
    """The guess: deeper half coarse, shallower half fine (both the one layer if only one)."""
    layers = list(cfg.code_layers)
    half = len(layers) // 2
    return {"coarse": layers[half:], "fine": layers[: max(half, 1)], "all": layers}


def layer_groups(model: nn.Module) -> dict[str, list[int]]:
    """{"coarse", "fine", "all"} -> encoder layers: the model's own groups where it has them."""
    groups = default_layer_groups(model.cfg)
    override = getattr(model, LAYER_GROUPS_ATTR, None) or {}
    for name, layers in override.items():
        if name not in ("coarse", "fine") or not _all_code_layers(layers, model.cfg):
            raise EditError("bad_layer_groups", f"the model's layer group {name!r} = {layers!r} is not a list of "
                            f"its code layers {list(model.cfg.code_layers)} named coarse or fine")
        groups[name] = sorted(int(l) for l in layers)
    return groups


def _all_code_layers(layers: object, cfg: ModelConfig) -> bool:
    return isinstance(layers, (list, tuple)) and bool(layers) and all(l in cfg.code_layers for l in layers)


def resolve_layers(model: nn.Module, layers: LayerSpec) -> list[int]:
    """Sorted encoder layers from None (all), a group name, or a mix of layers and group names."""
    groups = layer_groups(model)
    refs = [layers] if layers is None or isinstance(layers, str) else list(layers)
    chosen: set[int] = set()
    for ref in refs:
        if ref is None or ref in groups:
            chosen.update(groups["all" if ref is None else ref])
        elif not isinstance(ref, bool) and isinstance(ref, int) and ref in model.cfg.code_layers:
            chosen.add(ref)
        else:
            raise EditError("bad_layer", f"the model has no code layer {ref!r}; its layers are "
                            f"{list(model.cfg.code_layers)}, its groups " + _describe(groups))
    if not chosen:
        raise EditError("bad_layer", "no layer was chosen")
    return sorted(chosen)


def _describe(groups: dict[str, list[int]]) -> str:
    return ", ".join(f"{name} = {layers}" for name, layers in groups.items())
