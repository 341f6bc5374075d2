"""Which layers the plugin reads and where its results go, decided over plain layer
descriptions (``LayerInfo``) so the rules are tested without Krita.

- The label layer: the first paint layer (top down) named like "labels", else the active one.
- Results: paint layers in a group "clvae" that sits right above the label layer, in the
  same parent; each new result goes on top of the group, so it shows at once.
- Names say how a layer was made, with its seed, and never repeat inside the group.
- Live mode's preview: one paint layer "clvae live" beside the label layer, above the result
  group (or the label layer when there is no group yet), so it shows; never a label layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

GROUP_NAME = "clvae"
PREVIEW_NAME = "clvae live"
LABEL_PREFIXES = ("label", "semantic", "segmentation")
PAINT_LAYER = "paintlayer"
GROUP_LAYER = "grouplayer"


@dataclass(frozen=True)
class LayerInfo:
    uid: str
    name: str
    kind: str  # Krita's node type: "paintlayer", "grouplayer", ...
    parent: Optional[str] = None  # the parent's uid; None for the root's children


def looks_like_labels(name: str) -> bool:
    return name.strip().casefold().startswith(LABEL_PREFIXES)


def pick_label_layer(layers: Sequence[LayerInfo], active: Optional[str]) -> Optional[str]:
    """The uid of the label layer: ``layers`` are top-down; the first paint layer named like
    labels, else ``active`` if it is a paint layer outside the result group, else None."""
    paint = label_candidates(layers)
    named = [layer.uid for layer in paint if looks_like_labels(layer.name)]
    if named:
        return named[0]
    return active if any(layer.uid == active for layer in paint) else None


def label_candidates(layers: Sequence[LayerInfo]) -> list[LayerInfo]:
    """The paint layers that may be label layers: not results, not the live preview."""
    results = set(result_group_uids(layers))
    return [layer for layer in layers
            if layer.kind == PAINT_LAYER and layer.parent not in results and layer.name != PREVIEW_NAME]


def pick_reference_image(layers: Sequence[LayerInfo], label: Optional[str]) -> Optional[str]:
    """The uid of a reference's picture: its topmost paint layer other than
    its label layer (results included: a result can be a reference)."""
    return next((layer.uid for layer in layers if layer.kind == PAINT_LAYER and layer.uid != label), None)


def result_group_uids(layers: Iterable[LayerInfo]) -> list[str]:
    return [layer.uid for layer in layers if layer.kind == GROUP_LAYER and layer.name == GROUP_NAME]


def result_group(layers: Sequence[LayerInfo], label: str) -> Optional[str]:
    """The result group beside the label layer (same parent), or None: make one above it."""
    parent = _by_uid(layers, label).parent
    return next((layer.uid for layer in layers
                 if layer.kind == GROUP_LAYER and layer.name == GROUP_NAME and layer.parent == parent), None)


def preview_layer(layers: Sequence[LayerInfo], label: str) -> Optional[str]:
    """The live preview beside the label layer (same parent), or None."""
    parent = _by_uid(layers, label).parent
    return next((layer.uid for layer in layers
                 if layer.kind == PAINT_LAYER and layer.name == PREVIEW_NAME and layer.parent == parent), None)


def preview_anchor(layers: Sequence[LayerInfo], label: str) -> str:
    """The layer a new preview goes right above: the result group beside the label layer, or the label layer."""
    return result_group(layers, label) or label


def pick_result_layer(candidates: Sequence[str], active: Optional[str]) -> Optional[str]:
    """The result layer to edit: the active layer if it is one, else the first (topmost)."""
    if active in candidates:
        return active
    return candidates[0] if candidates else None


def result_name(operation: str, seed: Optional[int], class_name: Optional[str] = None,
                strength: Optional[float] = None, reference: Optional[str] = None) -> str:
    """A layer name that says how the result was made, e.g. "sky re-rolled, seed 42"."""
    seed_part = f"seed {seed}" if seed is not None else "no seed"
    if operation == "generate":
        return seed_part
    if operation == "reroll":
        return f"{class_name} re-rolled, {seed_part}"
    if operation == "edit":
        return f"{class_name} nudged {strength:g}, {seed_part}"
    if operation == "transfer":
        return f"style of {reference}, {seed_part}"
    if operation == "live":
        return f"live, {seed_part}"
    raise ValueError(f"unknown operation {operation!r}")


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name (2)``, ``name (3)``... whichever is not taken."""
    used = set(taken)
    if name not in used:
        return name
    number = 2
    while f"{name} ({number})" in used:
        number += 1
    return f"{name} ({number})"


def _by_uid(layers: Sequence[LayerInfo], uid: str) -> LayerInfo:
    for layer in layers:
        if layer.uid == uid:
            return layer
    raise KeyError(f"no layer {uid}")
