"""python -m clvae.data.procedural: export procedural scenes, or draw a contact sheet."""

from __future__ import annotations

import argparse
from pathlib import Path

from clvae.data.procedural.export import export_procedural, save_grid


def parse_size(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W)."""
    height, width = (int(part) for part in text.lower().split("x"))
    return height, width


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m clvae.data.procedural", description=__doc__)
    parser.add_argument("--out", type=Path, help="write an ADE20K-style data set to this folder")
    parser.add_argument("--train", type=int, default=1000, help="training scenes (default 1000)")
    parser.add_argument("--val", type=int, default=100, help="validation scenes (default 100)")
    parser.add_argument("--size", type=parse_size, default=(128, 128), help="HxW (default 128x128)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--grid", type=Path, help="write a 4 x 4 contact sheet of scenes to this PNG")
    args = parser.parse_args(argv)
    if args.out is None and args.grid is None:
        parser.error("give --out DIR and/or --grid PNG")
    if args.out is not None:
        print(export_procedural(args.out, args.train, args.val, args.size, args.seed))
    if args.grid is not None:
        print(save_grid(args.grid, size=args.size, seed=args.seed))


if __name__ == "__main__":
    main()
