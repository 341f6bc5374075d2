"""Which code layers act as "coarse" (colour, tone) and which as "fine" (texture)?

Measured, not assumed (section 4.4.3, Figure 15): on held-out procedural scenes, each code
layer l alone moves every measured class's code to a random prior draw, and we record how
far the class's mean colour and its texture statistic move, and which share of the pixel
change falls inside the class (its locality, as in docs/evaluation.md). Layers whose colour
change, relative to their texture change, is above the median are "coarse", the others "fine".
``--write`` stores the groups in the model file, where ``load_synthesizer`` picks them up.

    python -m clvae.eval.layers --model clvae/assets/procedural.safetensors --masks 8 [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass

import numpy as np
import torch

from clvae import edit as api
from clvae.checkpoint import load_checkpoint, save_checkpoint
from clvae.data.procedural import ProceduralScenes, class_statistics
from clvae.eval.evaluate import read_scene
from clvae.eval.style import change_inside, finite_mean, measured_classes, style_distance
from clvae.model_io import load_synthesizer

MIN_PIXELS = 64


@dataclass(frozen=True)
class LayerEffect:
    """Means over the measured classes of a one-layer re-draw."""

    color: float  # change of the class's mean colour
    texture: float  # change of its texture statistic
    locality: float  # share of the pixel change inside the class


def layer_effects(model, masks: int, seed: int = 0) -> dict[int, LayerEffect]:
    """Code layer -> what re-drawing one class's code at that layer alone does."""
    cfg = model.cfg
    scenes = ProceduralScenes(size=(cfg.height, cfg.width), length=masks, seed=seed, split="validation")
    moved: dict[int, list[tuple[float, float, float]]] = {layer: [] for layer in cfg.code_layers}
    for index in range(masks):
        scene = read_scene(scenes, index, cfg)
        base = api.generate(model, scene.label, 1, seed=seed + index)[0]
        before = class_statistics(base.image, scene.label, cfg.num_classes)
        for cls in measured_classes(scene.label, cfg.num_classes, MIN_PIXELS).tolist():
            for layer in cfg.code_layers:
                after = api.edit(model, scene.label, base.codes, cls, [layer], "random", 1.0, seed + 1000 * index + cls)
                stats = class_statistics(after.image, scene.label, cfg.num_classes)
                color, texture = style_distance(before, stats, np.array([cls]))
                moved[layer].append((color, texture, change_inside(base.image, after.image, scene.label == cls)))
    return {layer: LayerEffect(*(finite_mean([row[i] for row in rows]) for i in range(3))) for layer, rows in moved.items()}


def split_groups(effects: dict[int, LayerEffect]) -> dict[str, list[int]]:
    """Coarse: colour-to-texture ratio above the median; fine: the rest."""
    ratios = {layer: color_to_texture(effect) for layer, effect in effects.items()}
    median = float(np.median(list(ratios.values())))
    coarse = sorted(layer for layer, r in ratios.items() if r > median)
    fine = sorted(layer for layer, r in ratios.items() if r <= median)
    return {"coarse": coarse or fine[-1:], "fine": fine or coarse[:1]}


def color_to_texture(effect: LayerEffect) -> float:
    return effect.color / max(effect.texture, 1e-9)


def write_groups(path: str, groups: dict[str, list[int]], effects: dict[int, LayerEffect]) -> None:
    """Store the measured groups (and the figures behind them) in the model file's metadata."""
    tensors, meta = load_checkpoint(path)
    meta["layer_groups"] = groups
    meta["layer_effects"] = {str(layer): asdict(effect) for layer, effect in effects.items()}
    save_checkpoint(path, tensors, meta)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a model.safetensors with class-wise codes")
    parser.add_argument("--masks", type=int, default=8, help="held-out procedural scenes to measure (default 8)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="store the groups in the model file")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    model = load_synthesizer(args.model)
    if not model.cfg.code_layers:
        print(f"clvae: error: a {model.cfg.variant} model has no layer-wise codes", file=sys.stderr)
        return 2
    effects = layer_effects(model, args.masks, args.seed)
    groups = split_groups(effects)
    print(f"{'layer':>5} {'colour change':>14} {'texture change':>15} {'colour/texture':>15} {'locality':>9}")
    for layer, e in effects.items():
        print(f"{layer:>5} {e.color:>14.4f} {e.texture:>15.5f} {color_to_texture(e):>15.1f} {e.locality:>9.3f}")
    print(json.dumps(groups))
    if args.write:
        write_groups(args.model, groups, effects)
        print(f"wrote the groups into {args.model}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
