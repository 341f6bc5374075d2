"""``TrainConfig``: everything a training run is told, in five TOML sections.

    [data]   where the (image, label) pairs come from
    [model]  the architecture: ``ModelConfig`` without classes and size (the data set
             gives its classes, ``data.size`` the size)
    [optim]  batch, Adam, learning-rate schedule, EMA
    [loss]   the loss weights (``LossWeights``) and the VGG19 weights file
    [run]    run directory, seed, device, precision, logging and checkpoint cadence

A file sets any subset; ``--set section.key=value`` overrides it. The config is saved
as JSON in every checkpoint, so ``--resume`` needs nothing else.
"""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Sequence

from clvae.config import ClassInfo, ModelConfig
from clvae.losses import LossWeights
from clvae.train import settings
from clvae.train.errors import TrainError

LR_PRESETS = {"code": (1e-4, 4e-4), "paper": (4e-4, 1e-4)}  # (G and E, D)
MODEL_SIZE_FIELDS = ("classes", "height", "width")  # given by the data set and data.size


@dataclass
class DataSettings:
    """Where the training pairs come from.

    kind
        A kind of ``clvae.data.build_dataset``: procedural (generated scenes, no files
        needed), ade20k, gta5, cityscapes, deepfashion or folder.
    """

    kind: str = "procedural"
    root: str = ""  # the data set's folder (not used by procedural)
    split: str = "train"
    size: tuple[int, int] = (256, 256)  # (height, width) of the training images; the model is built for it
    length: int = 10000  # number of scenes (procedural only)
    seed: int = 0  # the scenes' seed (procedural), the random crops' seed (file loaders)
    num_workers: int = 2  # data-loading worker processes per training process (0: load in-process)
    flip: bool = True  # random horizontal flips of image and label together
    options: dict[str, Any] = field(default_factory=dict)  # more keyword arguments for the loader (e.g. on_bad = "skip")


def _model_settings_class() -> type:
    """``ModelConfig``'s fields minus classes and size, with its defaults and help."""
    hints = typing.get_type_hints(ModelConfig)
    helps = settings.field_help(ModelConfig)
    specs = [
        (f.name, hints[f.name], field(default=f.default, metadata={"help": helps.get(f.name, "")}))
        for f in dataclasses.fields(ModelConfig)
        if f.name not in MODEL_SIZE_FIELDS
    ]
    cls = dataclasses.make_dataclass("ModelSettings", specs)
    cls.__module__ = __name__
    return cls


ModelSettings = _model_settings_class()


@dataclass
class OptimSettings:
    """Optimisation: Adam for G and E together, Adam for D, linear decay at the end.

    lr_preset
        ``code``: G/E 1e-4, D 4e-4, the authors' code (SPADE's TTUR). ``paper``: G/E 4e-4,
        D 1e-4, as section 4.2 states it.
    unit
        What ``niter`` and ``niter_decay`` count. With epochs the rate still decays every
        iteration, linearly over the decay epochs.
    """

    batch_size: int = 4  # images per process and iteration (the paper: 4)
    lr_preset: Literal["code", "paper"] = "code"
    lr_G: Optional[float] = None  # generator and encoder learning rate; none: lr_preset's
    lr_D: Optional[float] = None  # discriminator learning rate; none: lr_preset's
    betas: tuple[float, float] = (0.0, 0.9)  # Adam's (beta1, beta2)
    unit: Literal["iterations", "epochs"] = "epochs"
    niter: int = 100  # units at the initial learning rates
    niter_decay: int = 100  # then units of linear decay to zero
    ema_decay: float = 0.0  # EMA of G and E's weights (e.g. 0.999; 0: off); when on, model.safetensors holds the EMA

    def learning_rates(self) -> tuple[float, float]:
        """(G and E, D): the explicit rates, or the preset's."""
        preset_G, preset_D = LR_PRESETS[self.lr_preset]
        return (preset_G if self.lr_G is None else self.lr_G, preset_D if self.lr_D is None else self.lr_D)


@dataclass
class LossSettings(LossWeights):
    """The weights of Eq. 7's terms."""

    vgg_weights: Optional[str] = None  # VGG19 ImageNet weights (.pth, .safetensors); none: $CLVAE_VGG19, torch hub cache


@dataclass
class RunSettings:
    """Where the run lives and how it runs.

    amp
        Mixed precision on CUDA: ``auto`` is bf16 where the GPU supports it, else fp16
        with gradient scaling. On the CPU training is always in float32.
    deterministic
        Deterministic kernels (slower on GPUs); with it a resumed run repeats an
        uninterrupted one bit for bit on the same machine.
    """

    run_dir: str = "runs/clvae"  # checkpoint.safetensors, model.safetensors, TensorBoard logs and samples go here
    seed: int = 0  # seeds the weights, the data order, the flips and the code sampling
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when available
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    channels_last: bool = False  # channels-last memory layout (faster convolutions on recent GPUs)
    compile: bool = False  # torch.compile the training steps
    deterministic: bool = False
    max_iterations: int = 0  # stop after this many iterations (0: run the whole schedule); the schedule stays as set
    init_from: str = ""  # a new run starts from this model file's G and E weights (e.g. an earlier run's model.safetensors); D starts fresh
    checkpoint_every: int = 1000  # iterations between checkpoints (one is also written at the end)
    log_every: int = 50  # iterations between printed losses and TensorBoard scalars
    image_every: int = 500  # iterations between TensorBoard image grids (0: none)


@dataclass
class TrainConfig:
    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)  # type: ignore[valid-type]
    optim: OptimSettings = field(default_factory=OptimSettings)
    loss: LossSettings = field(default_factory=LossSettings)
    run: RunSettings = field(default_factory=RunSettings)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: settings.section_dict(getattr(self, name)) for name in SECTIONS}

    @staticmethod
    def from_dict(values: Mapping[str, Any], source: str = "config") -> "TrainConfig":
        """Build and check a config from nested plain values (a TOML file, a checkpoint)."""
        unknown = [name for name in values if name not in SECTIONS]
        if unknown:
            raise TrainError(f"{source}: unknown section [{unknown[0]}]; the sections are: {', '.join(SECTIONS)}")
        config = TrainConfig(**{name: settings.build_section(SECTIONS[name], section, name)
                                for name, section in values.items()})
        config.check()
        return config

    def model_config(self, classes: Sequence[ClassInfo]) -> ModelConfig:
        """The ModelConfig for a data set with these classes, at ``data.size``."""
        height, width = self.data.size
        try:
            return ModelConfig(classes=list(classes), height=height, width=width, **dataclasses.asdict(self.model))
        except ValueError as err:
            raise TrainError(str(err)) from err

    def check(self) -> None:
        """Raise a TrainError for values no run can use."""
        rules = [
            (self.optim.batch_size >= 1, "optim.batch_size must be at least 1"),
            (self.optim.niter >= 0 and self.optim.niter_decay >= 0, "optim.niter and optim.niter_decay must be >= 0"),
            (self.optim.niter + self.optim.niter_decay > 0, "optim.niter + optim.niter_decay must be positive"),
            (0.0 <= self.optim.ema_decay < 1.0, "optim.ema_decay must be in [0, 1)"),
            (all(lr > 0 for lr in self.optim.learning_rates()), "learning rates must be positive"),
            (min(self.data.size) >= 1, "data.size must be positive (height, width)"),
            (self.data.num_workers >= 0, "data.num_workers must be >= 0"),
            (self.run.checkpoint_every >= 1, "run.checkpoint_every must be at least 1"),
            (self.run.log_every >= 1, "run.log_every must be at least 1"),
            (self.run.image_every >= 0, "run.image_every must be >= 0 (0: no images)"),
            (self.run.max_iterations >= 0, "run.max_iterations must be >= 0 (0: the whole schedule)"),
            (min(self.loss.fm, self.loss.vgg, self.loss.kl, self.loss.locality) >= 0, "loss weights must be >= 0"),
            (self.loss.locality_margin >= 0, "loss.locality_margin must be >= 0"),
            (self.loss.locality == 0 or not self.run.compile,
             "loss.locality does not work with run.compile (its anchored render switches the norms' mode)"),
        ]
        for ok, message in rules:
            if not ok:
                raise TrainError(message)
        model = self.model_config([ClassInfo("any", (0, 0, 0))])  # the architecture fits data.size
        if self.loss.locality > 0 and not model.one_code_per_class:
            raise TrainError(f"loss.locality re-draws one class's codes: a {model.variant} model has no class-wise codes")


SECTIONS: dict[str, type] = {f.name: typing.get_type_hints(TrainConfig)[f.name] for f in dataclasses.fields(TrainConfig)}


# ---- files and overrides -----------------------------------------------------------------


def read_toml(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise TrainError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise TrainError(f"config file {path} is not valid TOML: {err}") from None


def apply_override(values: dict[str, Any], assignment: str) -> None:
    """Apply ``section.key=value`` (or ``section.table.key=value``) to nested plain values."""
    path, sep, text = assignment.partition("=")
    parts = path.strip().split(".")
    if not sep or len(parts) < 2:
        raise TrainError(f"--set expects section.key=value, got {assignment!r}")
    section, key, *inner = parts
    if section not in SECTIONS:
        raise TrainError(f"unknown section in --set {path}; the sections are: {', '.join(SECTIONS)}")
    settings.check_key(SECTIONS[section], section, key)
    tp = settings.field_type(SECTIONS[section], key)
    if inner and typing.get_origin(tp) is not dict:
        raise TrainError(f"{section}.{key} is not a table; use --set {section}.{key}=value")
    names = [key, *inner]
    table = values.setdefault(section, {})
    for name in names[:-1]:
        table = table.setdefault(name, {})
    table[names[-1]] = settings.parse_text(text.strip(), Any if inner else tp)


def load_config(values: Mapping[str, Any], overrides: Sequence[str] = (), source: str = "config") -> TrainConfig:
    """A config from nested plain values (a TOML file's, a checkpoint's), then overrides."""
    values = {name: dict(section) if isinstance(section, Mapping) else section for name, section in values.items()}
    for assignment in overrides:
        apply_override(values, assignment)
    return TrainConfig.from_dict(values, source=source)


def help_text() -> str:
    """Every setting of every section, for ``--help``."""
    blocks = [settings.section_help(name, cls) for name, cls in SECTIONS.items()]
    return "settings (TOML sections of --config; override any with --set section.key=value):\n" + "\n".join(blocks)
