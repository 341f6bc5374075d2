"""Several models side by side on the same held-out masks with the same seeds.

    python -m clvae.eval.compare --model clvae=clvae/assets/procedural.safetensors \\
        --model gaugan_vae=clvae/assets/procedural_gaugan_vae.safetensors \\
        --model gaugan=clvae/assets/procedural_gaugan.safetensors \\
        --masks 50 --samples 40 --metrics style --out docs/results/compare.md

Writes the Markdown page (every metric, one column per model, the best in bold), a JSON file
beside it (same name, .json) and a picture (``<name>_samples.png``): one row per model
with the first mask's label map, its real image and the first prior samples the evaluation
drew for it. Models without an encoder (gaugan) get n/a for the metrics that need one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw
from torch import nn

from clvae import edit as api
from clvae.eval.cli import (
    ERRORS, EXIT_SKIPPED, add_evaluation_options, describe, fail, load_networks, open_model, report_skips,
    settings_from_args, test_dataset,
)
from clvae.eval.evaluate import Purpose, Scene, derived_seed, evaluate, read_scene
from clvae.eval.report import REPORT_FORMAT, markdown_document, metrics_json, write_json
from clvae.labels import label_to_picture

SHEET_SAMPLES = 8
GAP = 4
CAPTION_WIDTH = 96
WHITE = 255


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m clvae.eval.compare", description=__doc__.split("\n\n")[0],
                                     epilog="docs/evaluation.md defines every metric.")
    parser.add_argument("--model", dest="models", action="append", required=True, type=named_path,
                        metavar="NAME=PATH", help="a model to compare (repeatable; NAME heads its column)")
    parser.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, ...")
    add_evaluation_options(parser)
    parser.add_argument("--sheet-samples", type=int, default=SHEET_SAMPLES,
                        help=f"samples per model in the picture (default {SHEET_SAMPLES})")
    parser.add_argument("--out", required=True, metavar="MD", help="the Markdown page, e.g. docs/results.md")
    return parser


def named_path(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {text!r}")
    return name, path


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    names = [name for name, _ in args.models]
    if len(set(names)) != len(names):
        return fail(ValueError(f"model names must differ, got {', '.join(names)}"))
    try:
        settings = settings_from_args(args)
        models = {name: open_model(path, args.device) for name, path in args.models}
        first = next(iter(models.values()))
        dataset = test_dataset(args, first, settings.masks)
        networks = load_networks(args, next(first.parameters()).device)
        report_skips(networks)
        evaluations = {name: evaluate(model, dataset, settings, networks, name=name) for name, model in models.items()}
        sheet = sample_sheet(models, read_scene(dataset, 0, first.cfg), args.sheet_samples, settings.seed)
    except ERRORS as error:
        return fail(error)
    out = Path(args.out)
    picture = out.with_name(f"{out.stem}_samples.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(picture)
    about = describe(args, settings, networks)
    caption = (f"![The first mask: label map, real image, then {args.sheet_samples} prior samples per model]"
               f"({picture.name})\n\nEach row: the label map, the real image, then the first "
               f"{args.sheet_samples} prior samples of that mask (the evaluation's own seeds).")
    out.write_text(markdown_document("Side-by-side evaluation", about, evaluations, caption))
    models_json = {name: {"path": path, "variant": models[name].cfg.variant, "metrics": metrics_json(evaluations[name])}
                   for name, path in args.models}
    write_json(out.with_suffix(".json"), {"format": REPORT_FORMAT, **about, "models": models_json})
    print(f"{out}\n{out.with_suffix('.json')}\n{picture}", file=sys.stderr)
    return EXIT_SKIPPED if networks.missing else 0


def sample_sheet(models: dict[str, nn.Module], scene: Scene, count: int, seed: int) -> np.ndarray:
    """One row per model: caption, label picture, real image, ``count`` samples of mask 0."""
    rows = []
    for name, model in models.items():
        samples = api.generate(model, scene.label, count, derived_seed(seed, 0, Purpose.SAMPLES))
        tiles = [label_to_picture(scene.label, model.cfg.classes), scene.image] + [s.image for s in samples]
        rows.append(np.concatenate([caption_tile(name, scene.image.shape[0])] + spaced(tiles, axis=1), axis=1))
    return np.concatenate(spaced(rows, axis=0), axis=0)


def spaced(tiles: list[np.ndarray], axis: int) -> list[np.ndarray]:
    """``tiles`` with white gaps of ``GAP`` pixels between them along ``axis``."""
    shape = list(tiles[0].shape)
    shape[axis] = GAP
    gap = np.full(shape, WHITE, np.uint8)
    out = []
    for tile in tiles:
        out += [gap, tile] if out else [tile]
    return out


def caption_tile(text: str, height: int) -> np.ndarray:
    """A white tile with ``text`` written in it."""
    tile = Image.new("RGB", (CAPTION_WIDTH, height), (WHITE,) * 3)
    ImageDraw.Draw(tile).text((4, height // 2 - 6), text, fill=(0, 0, 0))
    return np.asarray(tile)


if __name__ == "__main__":
    sys.exit(main())
