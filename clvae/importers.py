"""``clvae import``: the authors' and NVIDIA's published checkpoints as clvae models.

Sources (docs/models/pretrained.md says where to get each file):

``authors``
    endo-yuki-t/DiversifyingSMIS: ``latest_net_G.pth`` and ``latest_net_E.pth`` for ADE20K,
    DeepFashion and GTA-5 -> the ``clvae`` variant.
``spade``
    NVlabs/SPADE's GauGAN: ``latest_net_G.pth`` for ADE20K, COCO-Stuff and Cityscapes (no
    encoder) -> the ``gaugan`` variant.

Both are plain state dicts written by ``torch.save``. They are read with
``torch.load(weights_only=True)`` only: a file whose pickle asks for anything but tensors
is refused, never run.

How their weights land on ours (read off their architecture; our modules keep SPADE's names):

- old-style spectral norm ``weight_orig`` / ``weight_u`` / ``weight_v`` -> the
  parametrization's ``original`` / ``_u`` / ``_v``;
- encoder ``layer{l}`` -> ``blocks.{l-1}``; ``fc_mu{l}`` / ``fc_var{l}`` -> ``fc_mu_layers.{l}``
  / ``fc_var_layers.{l}``;
- the authors' ``embedding`` (an ``nn.Embedding``, one row per label channel: W^T) is our
  ``cse.weight`` as it is;
- every axis over label channels (SPADE's convolutions of the mask, GauGAN's first conv, the
  embedding's rows) keeps the channel of each of our classes, in our class order. Channels no
  class of ours has (the instance-edge map, Cityscapes label ids outside the 19 classes) are
  dropped, which is exactly what feeding them zeros computes.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Mapping, Optional

import torch

from clvae.checkpoint import CheckpointError
from clvae.config import NUM_UP_LAYERS, ClassInfo, ModelConfig
from clvae.data.palettes import load_palette, other_index
from clvae.data.streets import LABEL_ID_TO_TRAIN_ID
from clvae.model import Synthesizer
from clvae.model_io import save_synthesizer

SOURCES = {"authors": "clvae", "spade": "gaugan"}  # source -> the variant that holds its networks
NETS = {"generator": "netG", "encoder": "netE"}  # our submodule -> the published file holding it
SPADE_HIDDEN = 128  # SPADE's hard-coded hidden width of mlp_shared
# The authors' generator feeds each block a fixed encoder layer, whatever the upsampling.
AUTHORS_BLOCK_LAYERS = {"head_0": 5, "G_middle_0": 4, "G_middle_1": 4, "up_0": 3, "up_1": 2, "up_2": 1, "up_3": None}
CITYSCAPES_UNLABELED = 0  # the label id our Cityscapes "other" class is fed as
DONT_CARE = ClassInfo("unlabeled (don't care)", (0, 0, 0))
OPTIONAL_SUFFIX = ".num_batches_tracked"  # batch-norm counter: unused at inference, absent before PyTorch 0.4.1
MAX_LISTED = 10
# Keys that tell the published files apart (for hints in errors).
ENCODER_MARK = "layer1.0.weight_orig"
GENERATOR_OUTPUT = "conv_img.weight"  # (3, ngf, 3, 3)
LAST_LABEL_INPUT = "up_3.norm_0.mlp_shared.0.weight"  # (128, label channels, 3, 3)


class CheckpointImportError(ValueError):
    """A published checkpoint that cannot be read safely or does not fit the chosen data set."""


def _cityscapes_label_ids() -> tuple[int, ...]:
    """The Cityscapes label id of each class of our palette (train ids; "other" as unlabeled)."""
    label_ids = {train_id: label_id for label_id, train_id in LABEL_ID_TO_TRAIN_ID.items()}
    label_ids[other_index("cityscapes")] = CITYSCAPES_UNLABELED
    return tuple(label_ids[i] for i in range(len(label_ids)))


@dataclass(frozen=True)
class PublishedModel:
    """A published checkpoint's options: SPADE's defaults plus its data set's (``--dataset_mode``).

    The checkpoint's label input has ``label_nc`` channels (the label values), one more for
    the don't-care value 255 where ``contain_dontcare``, and one more for the instance-edge
    map where ``instance``. ``channels`` gives the channel of each class of ours (None: class
    i is channel i); ``dont_care`` is a class appended to the palette for the don't-care channel.
    """

    palette: str
    label_nc: int
    contain_dontcare: bool
    instance: bool
    crop_size: int
    aspect_ratio: float  # width / height
    upsampling: str
    ngf: int
    z_dim: int = 256
    code_dim: Optional[int] = None  # the authors' --z_dim_local: N, the class-code size
    channels: Optional[tuple[int, ...]] = None
    dont_care: Optional[ClassInfo] = None

    @property
    def semantic_nc(self) -> int:
        """Channels of the checkpoint's label input."""
        return self.label_nc + self.contain_dontcare + self.instance

    def classes(self) -> list[ClassInfo]:
        extra = [self.dont_care] if self.dont_care else []
        return load_palette(self.palette) + extra

    def label_channels(self) -> list[int]:
        """The checkpoint's label channel of each of our classes."""
        return list(self.channels) if self.channels else list(range(len(self.classes())))

    def image_size(self) -> tuple[int, int]:
        """(height, width) as SPADE derives it from crop size, aspect ratio and upsampling."""
        factor = 2 ** NUM_UP_LAYERS[self.upsampling]
        start_width = self.crop_size // factor
        return round(start_width / self.aspect_ratio) * factor, start_width * factor


PUBLISHED: dict[tuple[str, str], PublishedModel] = {
    # (source, --dataset):          palette  label_nc dontcare instance crop aspect upsampling ngf
    ("authors", "ade20k"): PublishedModel("ade20k", 150, True, False, 256, 1.0, "normal", 64, code_dim=151),
    ("authors", "deepfashion"): PublishedModel("deepfashion", 16, False, False, 256, 1.0, "more", 160, code_dim=16),
    ("authors", "gta5"): PublishedModel("cityscapes", 20, False, False, 512, 2.0, "more", 64, code_dim=20),
    ("spade", "ade20k"): PublishedModel("ade20k", 150, True, False, 256, 1.0, "normal", 64),
    ("spade", "cityscapes"): PublishedModel("cityscapes", 35, False, True, 512, 2.0, "more", 64,
                                            channels=_cityscapes_label_ids()),
    ("spade", "coco"): PublishedModel("coco_stuff", 182, True, True, 256, 1.0, "normal", 64, dont_care=DONT_CARE),
}
DATASETS = tuple(sorted({dataset for _, dataset in PUBLISHED}))


def published_model(source: str, dataset: str) -> PublishedModel:
    if source not in SOURCES:
        raise CheckpointImportError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if (source, dataset) not in PUBLISHED:
        known = ", ".join(d for s, d in PUBLISHED if s == source)
        raise CheckpointImportError(f"{source} published no {dataset!r} checkpoint; its data sets: {known}")
    return PUBLISHED[(source, dataset)]


def model_config(source: str, published: PublishedModel, ngf: Optional[int] = None) -> ModelConfig:
    """Our config for the networks of a published checkpoint (sync batch norm -> "batch")."""
    if ngf is not None and ngf < 1:
        raise CheckpointImportError(f"ngf must be a positive width, got {ngf}")
    height, width = published.image_size()
    clvae = SOURCES[source] == "clvae"
    return ModelConfig(
        classes=published.classes(), variant=SOURCES[source], height=height, width=width,
        ngf=published.ngf if ngf is None else ngf, z_dim=published.z_dim, code_dim=published.code_dim,
        encoder_layers=6, encoder_size=256, upsampling=published.upsampling, norm_G="batch",
        spade_hidden=SPADE_HIDDEN, block_layers=dict(AUTHORS_BLOCK_LAYERS) if clvae else None,
    )


# ---- reading -------------------------------------------------------------------------------


def read_state_dict(path: str | os.PathLike, role: str) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save``d state dict, unpickled with tensors-only rules."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as err:
        raise CheckpointImportError(f"{role} {path}: {err.strerror or err}") from err
    except Exception as err:  # a corrupt file fails in many ways (EOFError, KeyError, RuntimeError...)
        raise CheckpointImportError(_unreadable(path, role, err)) from err
    if not isinstance(state, Mapping) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise CheckpointImportError(f"{role} {path} is not a state dict (a mapping of names to tensors) but a "
                                    f"{type(state).__name__}")
    return dict(state)


def _unreadable(path: str | os.PathLike, role: str, err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    reason = next((line for line in lines if "GLOBAL" in line or line.startswith("Unsupported")),
                  lines[0] if lines else "no details")
    if "GLOBAL" in reason:  # the tensors-only unpickler met a request for some Python object
        return (f"refused to load {role} {path}: its pickle asks to build Python objects other than tensors, "
                f"which could run code; a published checkpoint holds tensors only ({reason})")
    return (f"{role} {path} is not a readable PyTorch checkpoint (truncated, corrupt or another format): "
            f"{type(err).__name__}: {reason}")


# ---- where each of our weights lives in the published files -----------------------------------


@dataclass(frozen=True)
class Transfer:
    """One weight of ours and where it comes from."""

    ours: str  # key in our Synthesizer's state dict
    net: str  # "netG" or "netE"
    theirs: str  # key in that file
    shape: tuple[int, ...]  # its shape there
    label_axis: Optional[int]  # an axis over label channels, of which we keep one per class


SPECTRAL_NAMES = {
    ".parametrizations.weight.original": ".weight_orig",
    ".parametrizations.weight.0._u": ".weight_u",
    ".parametrizations.weight.0._v": ".weight_v",
}
RENAMES = (  # (our key pattern, published name) after the spectral-norm names
    (re.compile(r"^cse\.weight$"), lambda m: "embedding.weight"),
    (re.compile(r"^blocks\.(\d+)\."), lambda m: f"layer{int(m[1]) + 1}."),
    (re.compile(r"^fc_(mu|var)_layers\.(\d+)\."), lambda m: f"fc_{m[1]}{m[2]}."),
)


def published_key(ours: str) -> tuple[str, str]:
    """(file, key) of one of our weights in the published checkpoints."""
    module, _, key = ours.partition(".")
    for our_suffix, their_suffix in SPECTRAL_NAMES.items():
        if key.endswith(our_suffix):
            key = key[: -len(our_suffix)] + their_suffix
    for pattern, name in RENAMES:
        key = pattern.sub(name, key)
    return NETS[module], key


def label_axes(model: Synthesizer) -> dict[str, int]:
    """Our keys with an axis over label channels -> that axis."""
    generator = model.generator
    axes = {"generator.cse.weight": 0} if hasattr(generator, "cse") else {}
    if not model.cfg.uses_encoder:
        axes["generator.fc.weight"] = 1  # GauGAN's first conv reads the mask
    masked = {spec.name for spec, layer in zip(generator.specs, generator.conditioning) if layer is None}
    for key in model.state_dict():
        if key.endswith(".mlp_shared.0.weight") and key.split(".")[1] in masked:
            axes[key] = 1
    return axes


def plan_transfers(model: Synthesizer, semantic_nc: int) -> list[Transfer]:
    """Every weight of ``model`` (may live on the meta device) with its published name and shape."""
    axes = label_axes(model)
    transfers = []
    for ours, tensor in model.state_dict().items():
        shape = list(tensor.shape)
        if ours in axes:
            shape[axes[ours]] = semantic_nc
        net, theirs = published_key(ours)
        transfers.append(Transfer(ours, net, theirs, tuple(shape), axes.get(ours)))
    return transfers


def layout_problems(transfers: list[Transfer], net: str, found: Mapping[str, torch.Tensor]) -> list[str]:
    """Missing, unexpected and wrongly shaped keys of one file, in the file's terms."""
    expected = {t.theirs: t.shape for t in transfers if t.net == net}
    problems = []
    for key, shape in expected.items():
        if key not in found:
            if not key.endswith(OPTIONAL_SUFFIX):
                problems.append(f"{key}: expected {shape}, found nothing")
        elif tuple(found[key].shape) != shape:
            problems.append(f"{key}: expected {shape}, found {tuple(found[key].shape)}")
    problems += [f"{key}: not expected, found {tuple(t.shape)}" for key, t in found.items() if key not in expected]
    return problems


# ---- importing ---------------------------------------------------------------------------------


def import_checkpoint(source: str, *, netG: str | os.PathLike, dataset: str,
                      netE: Optional[str | os.PathLike] = None, ngf: Optional[int] = None) -> Synthesizer:
    """The Synthesizer (eval mode, CPU) holding a published checkpoint's networks.

    ``ngf`` overrides the published width, for checkpoints trained with another ``--ngf``.
    """
    published = published_model(source, dataset)
    paths = _paths(source, netG, netE)
    found = {net: read_state_dict(path, net) for net, path in paths.items()}
    with torch.device("meta"):  # shapes only: the weights come from the files
        model = Synthesizer(model_config(source, published, ngf))
    transfers = plan_transfers(model, published.semantic_nc)
    network = f"the {source} {dataset} network (ngf {model.cfg.ngf})"
    for net, tensors in found.items():
        _check_file(network, source, net, paths[net], tensors, transfers)
    channels = torch.tensor(published.label_channels())
    model.load_state_dict({t.ours: _take(t, found[t.net], channels) for t in transfers}, assign=True)
    return model.eval()


def _paths(source: str, netG: str | os.PathLike, netE: Optional[str | os.PathLike]) -> dict[str, Any]:
    if source == "authors" and netE is None:
        raise CheckpointImportError("the authors' model needs its encoder too: pass netE (latest_net_E.pth)")
    if source == "spade" and netE is not None:
        raise CheckpointImportError("SPADE's published GauGAN checkpoints have no encoder: leave out netE")
    return {"netG": netG} if netE is None else {"netG": netG, "netE": netE}


def _check_file(network: str, source: str, net: str, path: str | os.PathLike,
                tensors: Mapping[str, torch.Tensor], transfers: list[Transfer]) -> None:
    problems = layout_problems(transfers, net, tensors)
    if not problems:
        return
    listed = "\n".join(f"  {p}" for p in problems[:MAX_LISTED])
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    raise CheckpointImportError(
        f"{net} {path} does not fit {network}: "
        f"{len(problems)} mismatches, the first (expected vs found):\n{listed}{more}{_hint(source, net, tensors)}")


def _hint(source: str, net: str, tensors: Mapping[str, torch.Tensor]) -> str:
    """What the file looks like: the other network, or a generator of some data set and width."""
    if net == "netG" and ENCODER_MARK in tensors:
        return "\nit is an encoder (latest_net_E.pth): are --netG and --netE swapped?"
    if net == "netE" and GENERATOR_OUTPUT in tensors:
        return "\nit is a generator (latest_net_G.pth): are --netG and --netE swapped?"
    label_input, output = tensors.get(LAST_LABEL_INPUT), tensors.get(GENERATOR_OUTPUT)
    if label_input is None or output is None or label_input.dim() != 4 or output.dim() != 4:
        return ""
    channels, width = label_input.shape[1], output.shape[1]
    fits = [d for (s, d), published in PUBLISHED.items() if s == source and published.semantic_nc == channels]
    if not fits:
        return f"\nits label input has {channels} channels, which no {source} data set has"
    return f"\nits label input ({channels} channels) is that of --dataset {fits[0]}; its width is --ngf {width}"


def _take(transfer: Transfer, tensors: Mapping[str, torch.Tensor], channels: torch.Tensor) -> torch.Tensor:
    """Our tensor for one transfer: the published one, label channels picked, float32."""
    tensor = tensors.get(transfer.theirs)
    if tensor is None:  # an optional batch-norm counter
        return torch.zeros((), dtype=torch.long)
    if transfer.label_axis is not None:
        tensor = tensor.index_select(transfer.label_axis, channels)
    return tensor.float() if tensor.is_floating_point() else tensor


def import_notes(source: str, dataset: str) -> list[str]:
    """What a user should know about an imported model's inputs."""
    published = published_model(source, dataset)
    notes = []
    if published.instance:
        notes.append("trained with instance-edge maps, which clvae does not take: the edge channel is fed zeros "
                     "(neighbouring objects of one class merge)")
    unused = published.label_nc + published.contain_dontcare - len(set(published.label_channels()))
    if unused:
        notes.append(f"{unused} label channel(s) of the checkpoint have no class here and are fed zeros")
    if published.dont_care:
        notes.append(f"its don't-care label (pixel value 255) is the extra class {published.dont_care.name!r}")
    return notes


# ---- the command ---------------------------------------------------------------------------------

DESCRIPTION = """Convert a published checkpoint into a clvae model file (model.safetensors).

--from authors: endo-yuki-t/DiversifyingSMIS (latest_net_G.pth + latest_net_E.pth) for
ade20k, deepfashion, gta5 -> a clvae model. --from spade: NVlabs/SPADE's GauGAN
(latest_net_G.pth) for ade20k, cityscapes, coco -> a gaugan model. The files are read as
tensors only (never unpickled as code). docs/models/pretrained.md says where to get them."""

EXAMPLES = """examples:
  clvae import --from authors --netG checkpoints/ade20k/latest_net_G.pth \\
      --netE checkpoints/ade20k/latest_net_E.pth --dataset ade20k --out ade20k.safetensors
  clvae import --from spade --netG checkpoints/coco_pretrained/latest_net_G.pth --dataset coco --out coco.safetensors"""


def add_import_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Mount ``import`` on a CLI's subparsers; the parsed args run with ``run_import``."""
    parser = subparsers.add_parser("import", help="convert the authors' or NVIDIA's published checkpoints",
                                   description=DESCRIPTION, epilog=EXAMPLES,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", required=True, choices=tuple(SOURCES), help="who published it")
    parser.add_argument("--netG", required=True, metavar="PATH", help="the generator, latest_net_G.pth")
    parser.add_argument("--netE", metavar="PATH", help="the encoder, latest_net_E.pth (authors only)")
    parser.add_argument("--dataset", required=True, choices=DATASETS, help="the data set it was trained on")
    parser.add_argument("--out", required=True, metavar="PATH", help="the model file to write (.safetensors)")
    parser.add_argument("--ngf", type=int, metavar="N", help="generator width, for checkpoints trained with "
                                                             "another --ngf (default: the published one)")
    parser.set_defaults(func=run_import)
    return parser


def run_import(args: argparse.Namespace) -> int:
    """Import and write as ``args`` say; errors print one message and give status 2."""
    try:
        model = import_checkpoint(args.source, netG=args.netG, dataset=args.dataset, netE=args.netE, ngf=args.ngf)
        save_synthesizer(args.out, model)
    except (CheckpointImportError, CheckpointError) as err:
        print(f"clvae import: error: {err}", file=sys.stderr)
        return 2
    cfg = model.cfg
    print(f"wrote {args.out}: {cfg.variant}, {cfg.width} x {cfg.height} (width x height), "
          f"{cfg.num_classes} classes, ngf {cfg.ngf}")
    for note in import_notes(args.source, args.dataset):
        print(f"note: {note}")
    return 0
