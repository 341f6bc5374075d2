"""``clvae train`` / ``python -m clvae.train``: arguments, config assembly, error printing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from clvae.data import DataError
from clvae.train.config import TrainConfig, help_text, load_config, read_toml
from clvae.train.errors import TrainError
from clvae.train.state import checkpoint_path, saved_train_config
from clvae.train.trainer import train

# flag -> the setting it is short for
DIRECT_FLAGS = {
    "run_dir": "run.run_dir",
    "iterations": "run.max_iterations",
    "batch_size": "optim.batch_size",
    "device": "run.device",
    "seed": "run.seed",
}

DESCRIPTION = """Train a clvae model (or a GauGAN baseline) on one data set.

The run directory gets checkpoint.safetensors (everything to resume), model.safetensors
(the inference weights the daemon loads) and TensorBoard logs. Under torchrun each
process trains on its own share of the data (optim.batch_size images per iteration),
gradients are averaged across processes, and rank 0 alone logs and saves."""

EXAMPLES = """examples:
  python -m clvae.train --config configs/procedural.toml
  python -m clvae.train --config configs/procedural.toml --set optim.batch_size=8 --set model.ngf=32
  python -m clvae.train --run-dir runs/procedural --resume
  torchrun --nproc_per_node=4 -m clvae.train --config configs/ade20k.toml"""


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.description = DESCRIPTION
    parser.epilog = f"{EXAMPLES}\n\n{help_text()}"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--config", metavar="FILE", help="TOML file of settings (see configs/ and the list below)")
    parser.add_argument("--set", dest="overrides", metavar="SECTION.KEY=VALUE", action="append", default=[],
                        help="override one setting (repeatable); VALUE in TOML syntax, bare words are strings")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in the run directory from its checkpoint (same data order and "
                             "random draws as an uninterrupted run); without --config its saved config is used")
    for flag, key in DIRECT_FLAGS.items():
        metavar = key.split(".")[-1].upper()
        parser.add_argument(f"--{flag.replace('_', '-')}", dest=flag, metavar=metavar,
                            help=f"short for --set {key}={metavar}")
    return parser


def add_train_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Mount ``train`` on a CLI's subparsers; the parsed args run with ``run_train``."""
    parser = configure_parser(subparsers.add_parser("train", help="train a model"))
    parser.set_defaults(func=run_train)
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """--config (or, for --resume alone, the checkpoint's saved config), then --set, then flags."""
    overrides = list(args.overrides)
    flags = {key: getattr(args, flag) for flag, key in DIRECT_FLAGS.items()}
    overrides += [f"{key}={value}" for key, value in flags.items() if value is not None]
    if args.config is not None:
        return load_config(read_toml(args.config), overrides, source=args.config)
    if args.resume:
        run_dir = Path(args.run_dir or TrainConfig().run.run_dir)
        path = checkpoint_path(run_dir)
        if not path.exists():
            raise TrainError(f"--resume without --config needs a checkpoint, and {path} does not exist")
        return load_config(saved_train_config(path), overrides, source=str(path))
    return load_config({}, overrides)


def run_train(args: argparse.Namespace) -> int:
    """Train as ``args`` say; a TrainError (or a bad data file met on the way) is printed
    as one message, without a traceback, and gives status 2."""
    try:
        result = train(config_from_args(args), resume=args.resume)
    except (TrainError, DataError) as err:
        print(f"clvae train: error: {err}", file=sys.stderr)
        return 2
    if result.stopped_early:
        print(f"stopped at iteration {result.iteration}; continue with --run-dir {result.run_dir} --resume")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = configure_parser(argparse.ArgumentParser(prog="python -m clvae.train"))
    return run_train(parser.parse_args(argv))
