"""Model benchmark (issues 8 and 9): every figure and ratio below comes from one run.

- CSE block (Eq. 12): the gather against the dense formula.
- SPADE's first convolution (clvae.model.lookup): generator forward time of stock GauGAN
  (dense), GauGAN with the lookup, clvae dense and clvae with the lookup, per
  configuration and batch, against stock GauGAN, with each forward's peak memory.
- Variants: parameters, per-image forward latency and peak memory of clvae, gaugan_vae
  and gaugan as configured by default (``spade_conv = "auto"``).
- Training: one generator forward + backward, clvae dense against clvae lookup.
- Class sweep (optional): clvae dense against lookup as C varies, where "auto" switches.

Configurations: ``ade20k`` (C = 151, 256 x 256, ngf 64, SPADE hidden 128, as published)
and ``bundled`` (configs/procedural.toml: C = 12, 128 x 128, ngf 12, hidden 64).

Peak memory is the forward's own: on the CPU, how far the resident set of a fresh process
grows during one forward (Linux VmHWM, reset just before it, minus VmRSS before it); on
CUDA, torch.cuda.max_memory_allocated above what was allocated before the forward.

    python -m clvae.bench.model                         # every section (~6 min, 2 busy cores)
    python -m clvae.bench.model --configs bundled       # about a minute
    python -m clvae.bench.model --configs '' --variant-configs ade20k   # issue 8 at ADE20K
    python -m clvae.bench.model --configs '' --variant-configs '' --class-sweep 4,8,12,16,24,32
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch

from clvae.bench.timing import CLOCKS, interleaved_medians
from clvae.config import ClassInfo, ModelConfig
from clvae.model import Synthesizer
from clvae.model.cse import CSE, dense_cse
from clvae.model.lookup import LabelStencil, uses_lookup


@dataclass(frozen=True)
class Preset:
    classes: int
    size: int
    ngf: int
    hidden: int
    z_dim: int
    encoder_size: int

    def describe(self) -> str:
        return f"C = {self.classes}, {self.size} x {self.size}, ngf {self.ngf}, SPADE hidden {self.hidden}"


PRESETS = {
    "ade20k": Preset(classes=151, size=256, ngf=64, hidden=128, z_dim=256, encoder_size=256),
    "bundled": Preset(classes=12, size=128, ngf=12, hidden=64, z_dim=128, encoder_size=128),
}
STOCK = ("gaugan", "dense")
SPADE_CONV_MODELS = (STOCK, ("gaugan", "lookup"), ("clvae", "dense"), ("clvae", "lookup"))
VARIANTS = ("clvae", "gaugan_vae", "gaugan")


def blocky_mask(classes: int, size: int, batch: int, block: int = 16) -> torch.Tensor:
    """A painted-looking label map: constant blocks of random classes."""
    g = torch.Generator().manual_seed(0)
    coarse = torch.randint(0, classes, (batch, 1, size // block, size // block), generator=g).float()
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="nearest")[:, 0].long()


def model_config(preset: Preset, variant: str, spade_conv: str, num_classes: int) -> ModelConfig:
    classes = [ClassInfo(f"class{i}", (i, i, i)) for i in range(num_classes)]
    return ModelConfig(classes, variant=variant, height=preset.size, width=preset.size, ngf=preset.ngf,
                       spade_hidden=preset.hidden, z_dim=preset.z_dim, encoder_size=preset.encoder_size,
                       spade_conv=spade_conv)


@dataclass(frozen=True)
class Case:
    """One model on one input: what a timing, a memory probe or a training step runs."""

    preset: str
    variant: str
    spade_conv: str
    batch: int
    classes: Optional[int] = None  # None: the preset's

    def build(self, device: torch.device, train: bool = False) -> tuple[Synthesizer, Callable[[], torch.Tensor]]:
        """The model (seed 0) and a call running its generator on a blocky mask."""
        torch.manual_seed(0)
        preset = PRESETS[self.preset]
        config = model_config(preset, self.variant, self.spade_conv, self.classes or preset.classes)
        model = Synthesizer(config).to(device)
        model.train(train)
        label = blocky_mask(model.cfg.num_classes, model.cfg.height, self.batch).to(device)
        codes = model.prior(label, torch.Generator().manual_seed(0)) if model.cfg.uses_encoder else None
        if codes is not None and train:
            codes = codes.map(lambda t: t.to(device).requires_grad_() if t.is_floating_point() else t)
        return model, lambda: model(label, codes)


def timed(runs: dict[str, Callable[[], object]], args: argparse.Namespace) -> dict[str, float]:
    with torch.inference_mode():
        return interleaved_medians(runs, args.repeats, CLOCKS[args.clock])


# ---- peak memory ----------------------------------------------------------------------------
def status_bytes(field: str) -> int:
    """A "VmRSS"-like field of /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def forward_growth_bytes(forward: Callable[[], torch.Tensor]) -> int:
    """How far this process's resident set grows during ``forward()`` (Linux)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # resets VmHWM to the current resident size
    before = status_bytes("VmRSS")
    with torch.inference_mode():
        forward()
    return status_bytes("VmHWM") - before


def probe_memory(case: Case, threads: int) -> None:
    """Child-process side of ``peak_mib``: prints the forward's growth as JSON."""
    torch.set_num_threads(threads)
    _, forward = case.build(torch.device("cpu"))
    print(json.dumps({"bytes": forward_growth_bytes(forward)}))


def peak_mib(case: Case, args: argparse.Namespace) -> Optional[float]:
    """Peak memory of one forward of ``case`` (see the module docstring); None if unmeasurable."""
    device = torch.device(args.device)
    if device.type == "cuda":
        _, forward = case.build(device)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        with torch.inference_mode():
            forward()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    command = [sys.executable, "-m", "clvae.bench.model", "--memory-probe", json.dumps(asdict(case)),
               "--threads", str(torch.get_num_threads())]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.splitlines()[-1])["bytes"] / 2**20


def memory_column(case: Case, args: argparse.Namespace) -> str:
    if args.no_memory:
        return "-"
    mib = peak_mib(case, args)
    return "n/a" if mib is None else f"{mib:.0f}"


# ---- sections ---------------------------------------------------------------------------------
def bench_cse(preset_name: str, args: argparse.Namespace) -> None:
    preset = PRESETS[preset_name]
    cse = CSE(preset.classes, preset.classes)
    label = blocky_mask(preset.classes, preset.size, 1)
    codes = torch.randn(1, preset.classes, preset.classes)
    times = timed({"gather": lambda: cse(label, codes), "dense": lambda: dense_cse(label, codes, cse.weight)}, args)
    print(f"\nCSE block (Eq. 12), {preset_name}: batch 1, {preset.size} x {preset.size}, C = N = {preset.classes}")
    print(f"gather {times['gather'] * 1e3:.2f} ms, dense {times['dense'] * 1e3:.2f} ms: "
          f"gather is {times['dense'] / times['gather']:.1f}x faster")


def boundary_share(preset: Preset) -> float:
    """Share of the mask's pixels that need the lookup's nine-term sum, at full size."""
    stencil = LabelStencil.of(blocky_mask(preset.classes, preset.size, 1), preset.classes)
    return stencil.boundary_index.numel() / preset.size ** 2


def bench_spade_conv(preset_name: str, batch: int, args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    cases = {f"{variant} {conv}": Case(preset_name, variant, conv, batch) for variant, conv in SPADE_CONV_MODELS}
    times = timed({name: case.build(device)[1] for name, case in cases.items()}, args)
    stock = times[" ".join(STOCK)]
    preset = PRESETS[preset_name]
    print(f"\nSPADE's first convolution, dense vs lookup: {preset_name} ({preset.describe()}), batch {batch}, "
          f"blocky mask ({boundary_share(preset):.0%} boundary pixels)")
    print(f"{'generator':<22}{'forward ms':>12}{'ms / image':>12}{'vs stock':>10}{'peak MiB':>10}")
    for name, case in cases.items():
        label = name + " (stock)" if name == " ".join(STOCK) else name
        print(f"{label:<22}{times[name] * 1e3:>12.1f}{times[name] * 1e3 / batch:>12.1f}"
              f"{times[name] / stock:>9.3f}x{memory_column(case, args):>10}")


def parameter_counts(model: Synthesizer) -> tuple[int, int]:
    """(generator, encoder) parameters."""
    encoder = sum(p.numel() for p in model.encoder.parameters()) if model.encoder else 0
    return sum(p.numel() for p in model.generator.parameters()), encoder


def bench_variants(preset_name: str, batches: list[int], args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    preset = PRESETS[preset_name]
    print(f"\nVariants, spade_conv auto: {preset_name} ({preset.describe()})")
    print(f"{'variant':<12}{'G params':>10}{'E params':>10}{'batch':>7}{'ms / image':>12}{'vs gaugan':>11}{'peak MiB':>10}")
    for batch in batches:
        cases = {variant: Case(preset_name, variant, "auto", batch) for variant in VARIANTS}
        built = {variant: case.build(device) for variant, case in cases.items()}
        times = timed({variant: forward for variant, (_, forward) in built.items()}, args)
        for variant, case in cases.items():
            g_params, e_params = parameter_counts(built[variant][0])
            print(f"{variant:<12}{g_params / 1e6:>9.2f}M{e_params / 1e6:>9.2f}M{batch:>7}"
                  f"{times[variant] * 1e3 / batch:>12.1f}{times[variant] / times['gaugan']:>10.3f}x"
                  f"{memory_column(case, args):>10}")


def training_step(case: Case, device: torch.device) -> Callable[[], None]:
    """Generator forward + backward of a stand-in loss (mean square of the image)."""
    model, forward = case.build(device, train=True)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        forward().square().mean().backward()
    return step


def bench_training(preset_name: str, batch: int, args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    steps = {conv: training_step(Case(preset_name, "clvae", conv, batch), device) for conv in ("dense", "lookup")}
    times = interleaved_medians(steps, args.repeats, CLOCKS[args.clock])
    print(f"\nTraining step (clvae generator forward + backward): {preset_name} "
          f"({PRESETS[preset_name].describe()}), batch {batch}")
    print(f"dense {times['dense'] * 1e3:.0f} ms, lookup {times['lookup'] * 1e3:.0f} ms: "
          f"lookup / dense = {times['lookup'] / times['dense']:.3f}")


def bench_class_sweep(preset_name: str, classes: list[int], args: argparse.Namespace) -> None:
    device = torch.device(args.device)
    preset = PRESETS[preset_name]
    print(f"\nClass sweep, clvae forward, batch 1: {preset_name} geometry ({preset.describe()}) with C varied")
    print(f"{'C':>5}{'dense ms':>10}{'lookup ms':>11}{'lookup / dense':>16}{'auto':>8}")
    for num_classes in classes:
        cases = {conv: Case(preset_name, "clvae", conv, 1, num_classes) for conv in ("dense", "lookup")}
        times = timed({conv: case.build(device)[1] for conv, case in cases.items()}, args)
        auto = "lookup" if uses_lookup(model_config(preset, "clvae", "auto", num_classes)) else "dense"
        print(f"{num_classes:>5}{times['dense'] * 1e3:>10.1f}{times['lookup'] * 1e3:>11.1f}"
              f"{times['lookup'] / times['dense']:>16.3f}{auto:>8}")


# ---- command line -----------------------------------------------------------------------------
def names(text: str) -> list[str]:
    chosen = [name for name in text.split(",") if name]
    unknown = [name for name in chosen if name not in PRESETS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown configurations {unknown}; known: {', '.join(PRESETS)}")
    return chosen


def numbers(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", type=names, default=["ade20k", "bundled"],
                   help="configurations of the dense-vs-lookup section (default ade20k,bundled; '' skips it)")
    p.add_argument("--batches", type=numbers, default=[1, 4], help="its batch sizes (default 1,4)")
    p.add_argument("--variant-configs", type=names, default=["bundled"],
                   help="configurations of the variants section (default bundled; '' skips it)")
    p.add_argument("--variant-batches", type=numbers, default=[1, 8], help="its batch sizes (default 1,8)")
    p.add_argument("--training-configs", type=names, default=["bundled"],
                   help="configurations of the training-step section (default bundled; '' skips it)")
    p.add_argument("--training-batch", type=int, default=4, help="its batch size (default 4, the bundled run's)")
    p.add_argument("--cse-configs", type=names, default=["ade20k"],
                   help="configurations of the CSE section (default ade20k; '' skips it)")
    p.add_argument("--class-sweep", type=numbers, default=[], help="class counts C of the class sweep (default: none)")
    p.add_argument("--class-sweep-config", choices=sorted(PRESETS), default="bundled",
                   help="the geometry the class sweep varies C in (default bundled)")
    p.add_argument("--repeats", type=int, default=3, help="timed runs per model, interleaved (median reported)")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time (default) or this process's CPU time (steadier on a shared machine)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    p.add_argument("--memory-probe", help=argparse.SUPPRESS)  # internal: one probe, in a child process
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_probe:
        probe_memory(Case(**json.loads(args.memory_probe)), torch.get_num_threads())
        return
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads, device {args.device}, {args.clock} clock, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for preset in args.cse_configs:
        bench_cse(preset, args)
    for preset in args.configs:
        for batch in args.batches:
            bench_spade_conv(preset, batch, args)
    for preset in args.variant_configs:
        bench_variants(preset, args.variant_batches, args)
    for preset in args.training_configs:
        bench_training(preset, args.training_batch, args)
    if args.class_sweep:
        bench_class_sweep(args.class_sweep_config, args.class_sweep, args)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
