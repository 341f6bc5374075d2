"""Remake the README's pictures with the bundled model: each operation on the example masks.

    python -m clvae.figures --out docs/images

Writes bundled_samples.png (mask | 8 prior samples), and one strip per operation:
op_generate.png, op_reroll.png, op_transfer.png, op_edit.png (inputs first, then results).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from clvae import edit as api
from clvae.model_io import BUNDLED_MODEL
from clvae.labels import label_to_picture, read_label
from clvae.model_io import load_synthesizer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEED = 1


def strip(images: list[np.ndarray]) -> np.ndarray:
    """Images of one height side by side with a 4-pixel white gap."""
    gap = np.full((images[0].shape[0], 4, 3), 255, np.uint8)
    parts = [part for image in images for part in (image, gap)][:-1]
    return np.concatenate(parts, axis=1)


def save(path: Path, images: list[np.ndarray]) -> None:
    Image.fromarray(strip(images)).save(path)
    print(f"wrote {path}")


def make_figures(model_path: Path, out: Path) -> None:
    model = load_synthesizer(model_path)
    classes = model.cfg.classes
    label, _ = read_label(EXAMPLES / "village_labels.png", classes)
    ref_label, _ = read_label(EXAMPLES / "houses_labels.png", classes)
    ref_image = np.asarray(Image.open(EXAMPLES / "houses_reference.png").convert("RGB"))
    mask = label_to_picture(label, classes)
    out.mkdir(parents=True, exist_ok=True)

    samples = api.generate(model, label, 8, seed=SEED)
    save(out / "bundled_samples.png", [mask] + [s.image for s in samples])
    save(out / "op_generate.png", [mask] + [s.image for s in samples[:4]])
    base = samples[0]
    rerolls = [api.reroll(model, label, base.codes, ["roof", "wall"], seed=SEED + i, preserve=base.image, feather=3)
               for i in range(3)]
    save(out / "op_reroll.png", [mask, base.image] + [r.image for r in rerolls])
    styled = api.transfer(model, label, ref_image, ref_label, seed=SEED)
    save(out / "op_transfer.png", [mask, label_to_picture(ref_label, classes), ref_image, styled.image])
    coarse = api.edit(model, label, base.codes, "mountain", "coarse", "random", 1.0, seed=SEED + 10)
    fine = api.edit(model, label, base.codes, "mountain", "fine", "random", 1.0, seed=SEED + 10)
    save(out / "op_edit.png", [mask, base.image, coarse.image, fine.image])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=BUNDLED_MODEL, help="model file (default: the bundled one)")
    parser.add_argument("--out", type=Path, default=Path("docs/images"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    make_figures(args.model, args.out)


if __name__ == "__main__":
    main()
