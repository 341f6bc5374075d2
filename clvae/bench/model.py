"""Model benchmark: parameters and generator forward time of clvae, gaugan_vae and gaugan
in one run, and the CSE gather-vs-dense ratio (issue: clvae within 1.10x of gaugan,
gather >= 5x faster than dense at C = 151).

    python -m clvae.bench.model                 # ADE20K configuration, 256 x 256, C = 151
    python -m clvae.bench.model --size 128 --classes 12 --ngf 16
"""

from __future__ import annotations

import argparse
import platform

import torch

from clvae.bench.timing import interleaved_medians
from clvae.config import ClassInfo, ModelConfig
from clvae.model import Synthesizer
from clvae.model.cse import CSE, dense_cse

VARIANTS = ("clvae", "gaugan_vae", "gaugan")


def blocky_mask(classes: int, size: int, batch: int, block: int = 16) -> torch.Tensor:
    """A painted-looking label map: constant blocks of random classes."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.randint(0, classes, (batch, 1, size // block, size // block), generator=g).float()
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="nearest")[:, 0].long()


def config(variant: str, args: argparse.Namespace) -> ModelConfig:
    classes = [ClassInfo(f"class{i}", (i, i, i)) for i in range(args.classes)]
    return ModelConfig(classes, variant=variant, height=args.size, width=args.size, ngf=args.ngf,
                       encoder_size=max(128, min(256, args.size)))


def bench_generators(args: argparse.Namespace) -> None:
    label = blocky_mask(args.classes, args.size, args.batch)
    runs, rows = {}, []
    for variant in VARIANTS:
        model = Synthesizer(config(variant, args)).eval()
        codes = model.prior(label, torch.Generator().manual_seed(0)) if model.cfg.uses_encoder else None
        runs[variant] = lambda model=model, codes=codes: model(label, codes)
        rows.append((variant, sum(p.numel() for p in model.generator.parameters()),
                     sum(p.numel() for p in model.encoder.parameters()) if model.encoder else 0))
    with torch.inference_mode():
        times = interleaved_medians(runs, args.repeats)
    print(f"\nGenerator forward, batch {args.batch}, {args.size} x {args.size}, C = {args.classes}, ngf = {args.ngf}")
    print(f"{'variant':<12}{'G params':>12}{'E params':>12}{'forward ms':>12}{'vs gaugan':>11}")
    for variant, g_params, e_params in rows:
        ratio = times[variant] / times["gaugan"]
        print(f"{variant:<12}{g_params / 1e6:>11.2f}M{e_params / 1e6:>11.2f}M{times[variant] * 1e3:>12.1f}{ratio:>10.3f}x")


def bench_cse(args: argparse.Namespace) -> None:
    channels = args.classes
    cse = CSE(args.classes, channels)
    label = blocky_mask(args.classes, args.size, args.batch)
    codes = torch.randn(args.batch, args.classes, channels)
    with torch.inference_mode():
        times = interleaved_medians(
            {"gather": lambda: cse(label, codes), "dense": lambda: dense_cse(label, codes, cse.weight)}, args.repeats)
    print(f"\nCSE block (Eq. 12), batch {args.batch}, {args.size} x {args.size}, C = N = {args.classes}")
    print(f"gather {times['gather'] * 1e3:.2f} ms, dense {times['dense'] * 1e3:.2f} ms: "
          f"gather is {times['dense'] / times['gather']:.1f}x faster")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="square output size (default 256)")
    parser.add_argument("--classes", type=int, default=151, help="number of classes C (default 151, ADE20K)")
    parser.add_argument("--ngf", type=int, default=64, help="generator width (default 64)")
    parser.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per variant (median reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, device cpu")
    bench_cse(args)
    bench_generators(args)


if __name__ == "__main__":
    main()
