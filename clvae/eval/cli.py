"""``clvae eval``: the paper's metrics and the weight-free style metrics of one model on a
data set's held-out masks; a Markdown table on stdout, JSON and Markdown files with --out.

Exit status: 0 when every requested metric was measured (or is n/a for the model's kind),
2 on an error (one line, no traceback), 3 when metrics were skipped because LPIPS or
Inception weights are missing (the rest is still measured and written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

from clvae.data import DataError, build_dataset
from clvae.edit.errors import EditError
from clvae.eval.backbones.inception import load_fid_inception
from clvae.eval.backbones.lpips import load_lpips
from clvae.weights import BadWeightsError, MissingWeightsError
from clvae.eval.evaluate import NETWORK_NAMES, EvalError, Evaluation, Networks, Settings, evaluate, unmet_need
from clvae.eval.metrics import GROUPS, PAPER, metrics_of
from clvae.eval.report import evaluation_json, markdown_document, write_json

EXIT_ERROR = 2
EXIT_SKIPPED = 3
JSON_NAME, MARKDOWN_NAME = "metrics.json", "metrics.md"
ERRORS = (EvalError, EditError, DataError, BadWeightsError)
DESCRIPTION = ("Measure a model on a data set's held-out masks: the paper's metrics (LPIPS and FID; they need "
               "local weight files) and weight-free style metrics. Prints a Markdown table; --out writes "
               "JSON and Markdown. Exit status 3: some metrics were skipped for missing weights.")

EPILOG = """examples:
  clvae eval --model runs/procedural/model.safetensors --masks 20 --samples 8 --out runs/procedural/eval
  clvae eval --model M.safetensors --metrics style          # weight-free metrics only
  CLVAE_LPIPS_ALEX=alex.pth CLVAE_ALEXNET=alexnet-owt-7be5be79.pth \\
  CLVAE_FID_INCEPTION=pt_inception-2015-12-05-6726825d.pth clvae eval --model M.safetensors --metrics paper
docs/evaluation.md defines every metric and says where the weights go."""


def add_eval_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Mount ``eval`` on a CLI's subparsers; the parsed args run with ``run_eval``."""
    from clvae.cli import model_options

    parser = subparsers.add_parser("eval", help="measure a model: the paper's metrics and style metrics",
                                   description=DESCRIPTION, epilog=EPILOG,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    model_options(parser)
    add_evaluation_options(parser)
    parser.add_argument("--out", metavar="DIR", help=f"write {JSON_NAME} and {MARKDOWN_NAME} into DIR")
    parser.set_defaults(func=run_eval)
    return parser


def add_evaluation_options(parser: argparse.ArgumentParser) -> None:
    """The options ``clvae eval`` and ``python -m clvae.eval.compare`` share."""
    defaults = Settings()
    parser.add_argument("--data", default="procedural", metavar="KIND", help="data set kind (default procedural)")
    parser.add_argument("--root", help="the data set's folder (not needed for procedural)")
    parser.add_argument("--split", default="test", help="the held-out split (default test)")
    parser.add_argument("--masks", type=int, default=defaults.masks, help=f"masks to use (default {defaults.masks})")
    parser.add_argument("--samples", type=int, default=defaults.samples,
                        help=f"prior samples per mask (default {defaults.samples}, the paper's)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help=f"seed of every draw (default {defaults.seed})")
    parser.add_argument("--metrics", default=",".join(GROUPS), type=groups_arg, metavar="GROUPS",
                        help="paper, style or paper,style (default)")
    parser.add_argument("--min-pixels", type=int, default=defaults.min_pixels,
                        help=f"pixels a class needs to be measured (default {defaults.min_pixels})")
    parser.add_argument("--batch", type=int, default=defaults.batch, help="images per forward pass")
    parser.add_argument("--lpips-weights", metavar="PATH",
                        help="LPIPS v0.1 alex.pth (default: $CLVAE_LPIPS_ALEX, hub cache)")
    parser.add_argument("--alexnet-weights", metavar="PATH",
                        help="torchvision AlexNet (default: $CLVAE_ALEXNET, hub cache)")
    parser.add_argument("--inception-weights", metavar="PATH",
                        help="pytorch-fid Inception (default: $CLVAE_FID_INCEPTION, hub cache)")


def groups_arg(text: str) -> tuple[str, ...]:
    groups = tuple(part.strip() for part in text.split(",") if part.strip())
    if not groups or set(groups) - set(GROUPS):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(GROUPS)} (comma-separated), got {text!r}")
    return groups


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = Settings(masks=args.masks, samples=args.samples, seed=args.seed, groups=args.metrics,
                        min_pixels=args.min_pixels, batch=args.batch)
    settings.check()
    return settings


def open_model(path: Optional[str], device: str) -> nn.Module:
    """The model file (None: the bundled one) on ``device``, as the other commands load it."""
    from clvae.cli import load_model

    return load_model(argparse.Namespace(model=path, device=device))


def load_networks(args: argparse.Namespace, device: torch.device) -> Networks:
    """LPIPS and FID Inception when the paper's metrics are asked for; a missing weights file
    leaves its network None, with the lookup message in ``missing``."""
    networks = Networks()
    if PAPER not in args.metrics:
        return networks
    loaders = {"lpips": lambda: load_lpips(args.lpips_weights, args.alexnet_weights),
               "inception": lambda: load_fid_inception(args.inception_weights)}
    for name, load in loaders.items():
        try:
            setattr(networks, name, load().to(device))
        except MissingWeightsError as error:
            networks.missing[name] = str(error)
    return networks


def test_dataset(args: argparse.Namespace, model: nn.Module, masks: int):
    """The held-out split; procedural scenes are made at the model's size."""
    cfg = model.cfg
    options = {"size": (cfg.height, cfg.width), "length": masks} if args.data == "procedural" else {}
    try:
        return build_dataset(args.data, args.root, args.split, **options)
    except (OSError, ValueError) as error:
        raise EvalError(f"cannot open the {args.data} data set's {args.split} split: {error}") from error


def describe(args: argparse.Namespace, settings: Settings, networks: Networks) -> dict[str, Any]:
    """What was evaluated and how, for the JSON and Markdown reports."""
    return {"data": {"kind": args.data, "root": args.root, "split": args.split, "masks": settings.masks},
            "settings": {"samples": settings.samples, "seed": settings.seed, "min_pixels": settings.min_pixels,
                         "metrics": list(settings.groups)},
            "skipped": dict(networks.missing)}


def report_skips(networks: Networks) -> None:
    for name, message in networks.missing.items():
        print(f"clvae eval: skipped the metrics that need {NETWORK_NAMES[name]}: {message}", file=sys.stderr)


def nothing_measurable(model: nn.Module, settings: Settings, networks: Networks) -> bool:
    return all(unmet_need(metric, model.cfg, networks, settings) for metric in metrics_of(settings.groups))


def fail(error: Exception) -> int:
    print(f"clvae eval: error: {error}", file=sys.stderr)
    return EXIT_ERROR


def run_eval(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        model = open_model(args.model, args.device)
        dataset = test_dataset(args, model, settings.masks)
        networks = load_networks(args, next(model.parameters()).device)
        report_skips(networks)
        if nothing_measurable(model, settings, networks):
            print("clvae eval: nothing left to measure", file=sys.stderr)
            return EXIT_SKIPPED
        evaluation = evaluate(model, dataset, settings, networks)
    except ERRORS as error:
        return fail(error)
    about = {"model": {"path": args.model, "variant": model.cfg.variant}, **describe(args, settings, networks)}
    write_reports(args.out, evaluation, about, model.cfg.variant)
    return EXIT_SKIPPED if networks.missing else 0


def write_reports(out: Optional[str], evaluation: Evaluation, about: dict[str, Any], name: str) -> None:
    """The Markdown table on stdout; JSON and Markdown files in ``out`` when given."""
    markdown = markdown_document(f"Evaluation of {about['model']['path'] or 'the bundled model'}", about,
                                 {name: evaluation})
    print(markdown, end="")
    if out is not None:
        write_json(Path(out) / JSON_NAME, evaluation_json(evaluation, about))
        (Path(out) / MARKDOWN_NAME).write_text(markdown)
        print(f"{Path(out) / JSON_NAME}\n{Path(out) / MARKDOWN_NAME}", file=sys.stderr)
