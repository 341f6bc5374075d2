"""The ``clvae`` command: inspect a model, synthesise and edit images from label maps.

Every command reads label maps as class-index PNGs or colour pictures in the model's
palette (``clvae.labels``), writes PNGs, and writes beside each result image a
``.codes.safetensors`` file with its codes, which ``reroll``, ``edit`` and ``preset``
read back. User errors print one line ``clvae: error: ...`` and exit with status 2.
docs/editing.md has examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from clvae import edit as api
from clvae.edit.files import CODES_SUFFIX
from clvae.labels import DEFAULT_THRESHOLD, read_label
from clvae.model.codes import Codes
from clvae.model.generator import describe_conditioning
from clvae.model_io import BUNDLED_MODEL, ModelFileError, load_synthesizer

DESCRIPTION = ("Synthesise and edit images from label maps with a class- and layer-wise VAE-GAN "
               "(Endo & Kanamori). Results are PNGs; each has its codes beside it.")
INFO_FORMAT = 1
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error argparse has printed
        return stop.code if isinstance(stop.code, int) else EXIT_ERROR
    try:
        return args.func(args) or 0
    except api.EditError as error:
        return fail(str(error))
    except OSError as error:
        return fail(f"{error.filename}: {error.strerror}" if error.filename else str(error))
    except KeyboardInterrupt:
        print("clvae: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def fail(message: str) -> int:
    print(f"clvae: error: {message}", file=sys.stderr)
    return EXIT_ERROR


# ---- the parser ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clvae", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_info(commands)
    add_generate(commands)
    add_reroll(commands)
    add_transfer(commands)
    add_reconstruct(commands)
    add_edit(commands)
    add_preset(commands)
    mount_extra_commands(commands)
    return parser


def model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", help=f"model.safetensors (default: the bundled {BUNDLED_MODEL.name})")
    parser.add_argument("--device", default="auto", help="torch device: auto (cuda if there is one), cpu, cuda, cuda:1...")


def mask_options(parser: argparse.ArgumentParser, flag: str = "--mask", required: bool = True) -> None:
    parser.add_argument(flag, required=required, metavar="PNG", help="label map: class-index PNG or palette-coloured picture")


def palette_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, metavar="RGB",
                        help=f"colour distance a pixel may be from the palette and its edge blends "
                             f"(default {DEFAULT_THRESHOLD:g})")
    parser.add_argument("--snap", action="store_true", help="give pixels far from the palette the nearest colour's class")


def seed_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help="seed of the random codes (default: a fresh one, printed)")


def out_file_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="PNG", help=f"result image; its codes go beside it as *{CODES_SUFFIX}")


def class_option(parser: argparse.ArgumentParser, required: bool, repeat: bool) -> None:
    parser.add_argument("--class", dest="classes", required=required, action="append" if repeat else "store",
                        type=class_ref, metavar="CLASS", help="class name or id" + (" (repeatable)" if repeat else ""))


def layers_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--layers", type=layer_refs, metavar="LAYERS",
                        help="coarse, fine, all (default) or encoder layers like 1,2 (see `clvae info`)")


def command(commands: Any, name: str, help_text: str, func) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(func=func)
    return parser


def add_info(commands: Any) -> None:
    parser = command(commands, "info", "show a model's classes, sizes and block conditioning", run_info)
    model_options(parser)
    parser.add_argument("--json", action="store_true", help="print the stable JSON form (docs/editing.md)")


def add_generate(commands: Any) -> None:
    parser = command(commands, "generate", "draw n images of a label map from prior codes (Eq. 11)", run_generate)
    model_options(parser)
    mask_options(parser)
    palette_options(parser)
    parser.add_argument("-n", type=int, default=1, help="how many images (default 1)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for <mask>_seed<seed>.png and its codes")
    seed_option(parser)
    parser.add_argument("--batch", type=int, default=api.DEFAULT_MAX_BATCH, help="images per forward pass")


def anchor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-anchor", dest="anchor", action="store_false",
                        help="plain render: do not keep the other classes' normalisation statistics (docs/editing.md)")


def add_reroll(commands: Any) -> None:
    parser = command(commands, "reroll", "new codes for some classes, the rest kept (section 4.4.2)", run_reroll)
    model_options(parser)
    mask_options(parser)
    palette_options(parser)
    parser.add_argument("--codes", required=True, metavar="FILE", help=f"a previous result's *{CODES_SUFFIX}")
    class_option(parser, required=True, repeat=True)
    layers_option(parser)
    seed_option(parser)
    parser.add_argument("--preserve", metavar="PNG", help="copy this image's pixels back outside the classes")
    parser.add_argument("--feather", type=int, default=api.DEFAULT_FEATHER, help="blended edge width in pixels")
    anchor_option(parser)
    out_file_option(parser)


def add_transfer(commands: Any) -> None:
    parser = command(commands, "transfer", "take the shared classes' styles from a reference image (4.4.1)", run_transfer)
    model_options(parser)
    mask_options(parser)
    palette_options(parser)
    parser.add_argument("--ref-image", required=True, metavar="IMAGE", help="the reference picture")
    mask_options(parser, "--ref-mask")
    class_option(parser, required=False, repeat=True)
    parser.add_argument("--no-global", dest="take_global", action="store_false",
                        help="draw z_1 from the prior instead of taking the reference's")
    seed_option(parser)
    out_file_option(parser)


def add_reconstruct(commands: Any) -> None:
    parser = command(commands, "reconstruct", "G(E(I, M)) with the encoder's means", run_reconstruct)
    model_options(parser)
    parser.add_argument("--image", required=True, metavar="IMAGE", help="the picture to encode")
    mask_options(parser)
    palette_options(parser)
    out_file_option(parser)


def add_edit(commands: Any) -> None:
    parser = command(commands, "edit", "move one class's codes at some layers (material editing, 4.4.3)", run_edit)
    model_options(parser)
    mask_options(parser)
    palette_options(parser)
    parser.add_argument("--codes", required=True, metavar="FILE", help=f"a previous result's *{CODES_SUFFIX}")
    class_option(parser, required=True, repeat=False)
    layers_option(parser)
    parser.add_argument("--target", default="random", metavar="TARGET",
                        help=f"random (a seeded prior draw), direction (a seeded random direction) or a *{CODES_SUFFIX}")
    parser.add_argument("--strength", type=float, default=0.5, help="0 keeps, 1 reaches the target, above 1 extrapolates")
    seed_option(parser)
    anchor_option(parser)
    out_file_option(parser)


def add_preset(commands: Any) -> None:
    parser = commands.add_parser("preset", help="save, apply and list one class's style", description="style presets")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = command(actions, "export", "save a class's codes from a result as a preset file", run_preset_export)
    model_options(export)
    export.add_argument("--codes", required=True, metavar="FILE", help=f"a result's *{CODES_SUFFIX}")
    class_option(export, required=True, repeat=False)
    export.add_argument("--name", required=True, help="the preset's name")
    export.add_argument("--out", required=True, metavar="FILE", help="the preset file (.safetensors)")
    apply = command(actions, "apply", "give a class of a result the preset's style", run_preset_apply)
    model_options(apply)
    mask_options(apply)
    palette_options(apply)
    apply.add_argument("--codes", required=True, metavar="FILE", help=f"a result's *{CODES_SUFFIX}")
    apply.add_argument("--preset", required=True, metavar="FILE", help="the preset file")
    class_option(apply, required=False, repeat=False)
    anchor_option(apply)
    out_file_option(apply)
    listing = command(actions, "list", "list the presets in a folder", run_preset_list)
    listing.add_argument("folder", help="a folder of preset files")
    listing.add_argument("--json", action="store_true", help="print JSON")


def mount_extra_commands(commands: Any) -> None:
    """``clvae train``, ``clvae import`` and ``clvae eval``, imported only when the parser is built."""
    from clvae.eval.cli import add_eval_parser
    from clvae.importers import add_import_parser
    from clvae.train import add_train_parser

    add_train_parser(commands)
    add_import_parser(commands)
    add_eval_parser(commands)


def class_ref(text: str) -> int | str:
    """A --class value: an id when it is all digits, else a name."""
    return int(text) if text.isdigit() else text


def layer_refs(text: str) -> list[int | str]:
    """A --layers value: comma-separated group names and layer numbers."""
    return [class_ref(part.strip()) for part in text.split(",") if part.strip()]


# ---- files ----------------------------------------------------------------------------------


def load_model(args: argparse.Namespace) -> torch.nn.Module:
    """The model of --model, or the bundled one, on --device."""
    path = Path(args.model) if args.model else BUNDLED_MODEL
    if args.model is None and not path.is_file():
        raise api.EditError("no_model", f"the bundled model {path} is not installed; pass --model PATH "
                            "(a model.safetensors written by `clvae train`)")
    device = resolve_device(args.device)
    try:
        return load_synthesizer(path, device)
    except ModelFileError as error:
        raise api.EditError("bad_model", str(error)) from error


def resolve_device(name: str) -> torch.device:
    """--device: "auto" is CUDA when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise api.EditError("bad_device", f"unknown device {name!r}: {error}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise api.EditError("bad_device", "CUDA is not available here; use --device cpu")
    return device


def read_mask(path: str, model: torch.nn.Module, args: argparse.Namespace) -> np.ndarray:
    """A label map file as (H, W) class ids; says on stderr when far pixels were snapped."""
    label, report = read_label(path, model.cfg.classes, args.threshold, args.snap)
    if report.far:
        print(f"clvae: warning: {path}: {report.describe()}; snapped to the nearest colour", file=sys.stderr)
    return label


def read_picture(path: str) -> np.ndarray:
    """An image file as (H, W, 3) uint8 RGB."""
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as error:
        raise api.EditError("bad_file", f"cannot read image {path}: {error}") from error


def read_codes(path: str) -> Codes:
    codes, _ = api.load_codes(path)
    return codes


def codes_path(image_path: Path) -> Path:
    """out/x.png -> out/x.codes.safetensors"""
    return image_path.with_name(image_path.stem + CODES_SUFFIX)


def write_result(path: Path, result: api.Result, model: torch.nn.Module, operation: str) -> None:
    """The image as PNG and its codes beside it; prints both paths."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(result.image).save(path, format="PNG")
    api.save_codes(codes_path(path), result.codes, model.cfg, operation=operation, seed=result.seed)
    seed = "" if result.seed is None else f"  (seed {result.seed})"
    print(f"{path}{seed}\n{codes_path(path)}")


# ---- the commands -----------------------------------------------------------------------------


def run_info(args: argparse.Namespace) -> int:
    model = load_model(args)
    info = model_info(model, str(args.model or BUNDLED_MODEL))
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def model_info(model: torch.nn.Module, path: str) -> dict[str, Any]:
    """The stable JSON form of ``clvae info --json`` (docs/editing.md)."""
    cfg = model.cfg
    return {
        "format": INFO_FORMAT,
        "model": path,
        "variant": cfg.variant,
        "resolution": {"height": cfg.height, "width": cfg.width},
        "classes": [{"id": i, "name": c.name, "color": list(c.color)} for i, c in enumerate(cfg.classes)],
        "codes": {"z_dim": cfg.z_dim if cfg.uses_encoder else None, "code_channels": cfg.code_channels,
                  "code_layers": list(cfg.code_layers), "codes_per_layer": cfg.codes_per_layer},
        "layer_groups": api.layer_groups(model),
        "blocks": [{"block": name, "conditioning": cond} for name, cond in describe_conditioning(cfg).items()],
    }


def format_info(info: dict[str, Any]) -> str:
    codes = info["codes"]
    lines = [f"model       {info['model']}", f"variant     {info['variant']}",
             f"resolution  {info['resolution']['width']} x {info['resolution']['height']} (width x height)",
             f"codes       z_1: {codes['z_dim']}, class codes: {codes['code_channels']} per class at encoder layers "
             f"{codes['code_layers']}",
             "layers      " + ", ".join(f"{k} = {v}" for k, v in info["layer_groups"].items()),
             "blocks      " + ", ".join(f"{b['block']} <- {b['conditioning']}" for b in info["blocks"]),
             f"classes     {len(info['classes'])}"]
    lines += [f"  {c['id']:>4}  #{bytes(c['color']).hex()}  {c['name']}" for c in info["classes"]]
    return "\n".join(lines)


def run_generate(args: argparse.Namespace) -> int:
    model = load_model(args)
    label = read_mask(args.mask, model, args)
    with ProgressBar(args.n, "generate") as bar:
        results = api.generate(model, label, args.n, args.seed, max_batch=args.batch, progress=bar)
    stem = Path(args.mask).stem
    for result in results:
        write_result(Path(args.out) / f"{stem}_seed{result.seed}.png", result, model, "generate")
    return 0


class ProgressBar:
    """A tqdm bar on stderr for more than one image, as a ``progress(done, total)`` callback."""

    def __init__(self, total: int, what: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=what, unit="image", disable=total <= 1, file=sys.stderr)

    def __call__(self, done: int, total: int) -> None:
        self.bar.update(done - self.bar.n)

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def run_reroll(args: argparse.Namespace) -> int:
    model = load_model(args)
    label = read_mask(args.mask, model, args)
    preserve = read_picture(args.preserve) if args.preserve else None
    result = api.reroll(model, label, read_codes(args.codes), args.classes, args.layers, args.seed,
                        preserve=preserve, feather=args.feather, anchor=args.anchor)
    write_result(Path(args.out), result, model, "reroll")
    return 0


def run_transfer(args: argparse.Namespace) -> int:
    model = load_model(args)
    label = read_mask(args.mask, model, args)
    ref_label = read_mask(args.ref_mask, model, args)
    result = api.transfer(model, label, read_picture(args.ref_image), ref_label, args.classes, args.seed,
                          take_global=args.take_global)
    write_result(Path(args.out), result, model, "transfer")
    return 0


def run_reconstruct(args: argparse.Namespace) -> int:
    model = load_model(args)
    result = api.reconstruct(model, read_picture(args.image), read_mask(args.mask, model, args))
    write_result(Path(args.out), result, model, "reconstruct")
    return 0


def run_edit(args: argparse.Namespace) -> int:
    model = load_model(args)
    label = read_mask(args.mask, model, args)
    target = args.target if args.target in ("random", "direction") else read_codes(args.target)
    result = api.edit(model, label, read_codes(args.codes), args.classes, args.layers, target, args.strength, args.seed,
                      anchor=args.anchor)
    write_result(Path(args.out), result, model, "edit")
    return 0


def run_preset_export(args: argparse.Namespace) -> int:
    model = load_model(args)
    preset = api.export_preset(model, read_codes(args.codes), args.classes, args.name)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    api.save_preset(preset, args.out)
    print(f"{args.out}  ({preset.class_name}: {preset.name})")
    return 0


def run_preset_apply(args: argparse.Namespace) -> int:
    model = load_model(args)
    label = read_mask(args.mask, model, args)
    result = api.apply_preset(model, label, read_codes(args.codes), api.load_preset(args.preset), args.classes,
                              anchor=args.anchor)
    write_result(Path(args.out), result, model, "preset")
    return 0


def run_preset_list(args: argparse.Namespace) -> int:
    entries = api.list_presets(args.folder)
    rows = [{"path": str(e.path), "name": e.preset and e.preset.name, "class": e.preset and e.preset.class_name,
             "problem": e.problem} for e in entries]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        about = f"{row['class']}: {row['name']}" if row["problem"] is None else f"unreadable: {row['problem']}"
        print(f"{row['path']}  {about}")
    return 0
