"""Typed configuration, saved with every checkpoint.

A checkpoint's JSON holds ``ModelConfig.to_dict()``; ``ModelConfig.from_dict`` rebuilds
it, so a checkpoint alone is enough to rebuild its model (and to paint with it: the class
names and colours travel here).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

Variant = Literal["clvae", "gaugan_vae", "gaugan", "no_classwise", "no_layerwise"]
Upsampling = Literal["normal", "more", "most"]
NormKind = Literal["instance", "batch", "syncbatch"]
ExtraBlocks = Literal["authors", "mask", "reuse"]
SpadeConv = Literal["dense", "lookup", "auto"]

VARIANTS: tuple[str, ...] = ("clvae", "gaugan_vae", "gaugan", "no_classwise", "no_layerwise")
NUM_UP_LAYERS = {"normal": 5, "more": 6, "most": 7}


@dataclass(frozen=True)
class ClassInfo:
    """One semantic class: its name and the RGB colour it has in a painted label layer."""

    name: str
    color: tuple[int, int, int]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "color": list(self.color)}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "ClassInfo":
        r, g, b = (int(v) for v in d["color"])
        return ClassInfo(str(d["name"]), (r, g, b))


@dataclass
class ModelConfig:
    """Everything that fixes a model's architecture.

    variant
        ``clvae``: the paper (class- and layer-wise codes, CSE blocks).
        ``gaugan_vae``: GauGAN with a global code z_1 only (Eq. 2).
        ``gaugan``: unimodal GauGAN, no encoder (Eq. 1).
        ``no_classwise``: Table 5 "w/o class-wise VAE": one code per layer, shared by all classes.
        ``no_layerwise``: Table 5 "w/o layer-wise VAE": class-wise codes from the middle
        encoder layer only, fed to every CSE block.
    encoder_layers
        L: the encoder's number of stride-2 blocks. Class-wise codes come from blocks
        1 .. L-1, z_1 from block L (reference notes). L = 3 / 5 / 6 are Table 5's settings.
    extra_blocks
        Which conditioning the generator blocks without a code of their own scale get
        (section 3.2.1): ``authors`` reuses the nearest coarser code and gives the finest
        blocks the plain mask (the published code's table), ``mask`` gives every such
        block the plain mask, ``reuse`` gives it the nearest code.
    block_layers
        An explicit table, generator block name -> the encoder layer whose codes feed it
        (None: the plain mask), used instead of the one ``extra_blocks`` derives. Imported
        checkpoints of the authors carry their code's fixed table, which differs from the
        derived one for "more" upsampling (their G_middle_0 takes layer 4, not 5).
    spade_conv
        How SPADE's first convolution (``mlp_shared.0``) over the mask or CSE map is
        computed: ``dense`` builds the map and convolves it (the reference), ``lookup``
        sums per-class tables at the label map without building it (clvae.model.lookup;
        same parameters, same results), ``auto`` takes the lookup where it measured
        faster (from 24 classes / code channels on, or ngf >= 32). Not an architecture
        choice: any value runs any checkpoint.
    """

    classes: list[ClassInfo]
    variant: str = "clvae"
    height: int = 256
    width: int = 256
    ngf: int = 64
    ndf: int = 64
    z_dim: int = 256  # N_1
    code_dim: Optional[int] = None  # N; None means N = C (the paper's choice)
    encoder_layers: int = 6  # L
    encoder_size: int = 256  # the encoder sees the image resized to this square
    upsampling: str = "normal"
    norm_G: str = "instance"
    spade_hidden: int = 128
    extra_blocks: str = "authors"
    num_D: int = 2
    n_layers_D: int = 4
    spade_conv: str = "auto"
    block_layers: Optional[dict[str, Optional[int]]] = None

    def __post_init__(self) -> None:
        self.classes = [c if isinstance(c, ClassInfo) else ClassInfo.from_dict(c) for c in self.classes]
        self.validate()

    # ---- derived sizes -------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def code_channels(self) -> int:
        """N: channels of a class-wise code."""
        return self.code_dim if self.code_dim is not None else self.num_classes

    @property
    def uses_encoder(self) -> bool:
        return self.variant != "gaugan"

    @property
    def uses_class_codes(self) -> bool:
        return self.variant in ("clvae", "no_classwise", "no_layerwise")

    @property
    def code_layers(self) -> tuple[int, ...]:
        """Encoder blocks (1-based, 1 = shallowest) that yield layer-wise codes."""
        if not self.uses_class_codes:
            return ()
        if self.variant == "no_layerwise":
            return (max(1, self.encoder_layers // 2),)
        return tuple(range(1, self.encoder_layers))

    @property
    def codes_per_layer(self) -> int:
        """Code slots per layer: C for class-wise codes, 1 for the no_classwise ablation."""
        return 1 if self.variant == "no_classwise" else self.num_classes

    @property
    def one_code_per_class(self) -> bool:
        """A code of its own for every class at each code layer (what re-rolls, class
        edits and the locality term need)."""
        return self.uses_class_codes and self.variant != "no_classwise"

    @property
    def num_up_layers(self) -> int:
        return NUM_UP_LAYERS[self.upsampling]

    @property
    def start_size(self) -> tuple[int, int]:
        """(sh, sw): the size of g_1's output map."""
        f = 2 ** self.num_up_layers
        return self.height // f, self.width // f

    def validate(self) -> None:
        def bad(msg: str) -> None:
            raise ValueError(f"invalid model config: {msg}")

        if self.variant not in VARIANTS:
            bad(f"variant {self.variant!r} is not one of {', '.join(VARIANTS)}")
        if self.num_classes < 1:
            bad("at least one class is needed")
        if self.upsampling not in NUM_UP_LAYERS:
            bad(f"upsampling {self.upsampling!r} is not one of {', '.join(NUM_UP_LAYERS)}")
        f = 2 ** self.num_up_layers
        if self.height % f or self.width % f or self.height < f or self.width < f:
            bad(f"height and width must be positive multiples of {f} for {self.upsampling!r} "
                f"upsampling, got {self.height} x {self.width}")
        sh, sw = self.start_size
        if self.norm_G == "instance" and sh * sw < 2:
            bad(f"{self.height} x {self.width} is too small for instance norm with {self.upsampling!r} "
                f"upsampling: the first map would be 1 x 1 (use at least {2 * f} pixels on one side)")
        if self.norm_G not in ("instance", "batch", "syncbatch"):
            bad(f"norm_G {self.norm_G!r} is not instance, batch or syncbatch")
        if self.extra_blocks not in ("authors", "mask", "reuse"):
            bad(f"extra_blocks {self.extra_blocks!r} is not authors, mask or reuse")
        if not 2 <= self.encoder_layers <= 8:
            bad(f"encoder_layers (L) must be in 2..8, got {self.encoder_layers}")
        if self.encoder_size % (2 ** self.encoder_layers) or self.encoder_size < 2 ** (self.encoder_layers + 1):
            bad(f"encoder_size {self.encoder_size} must be a multiple of 2^L = {2 ** self.encoder_layers} "
                f"and at least 2^(L+1) = {2 ** (self.encoder_layers + 1)} (instance norm needs a 2 x 2 last map)")
        if self.spade_conv not in ("dense", "lookup", "auto"):
            bad(f"spade_conv {self.spade_conv!r} is not dense, lookup or auto")
        if self.block_layers is not None:
            self._validate_block_layers(bad)

    def _validate_block_layers(self, bad: Callable[[str], None]) -> None:
        """Value checks; the generator checks that the keys are its block names."""
        if not self.uses_class_codes:
            bad(f"block_layers needs a variant with class-wise codes, not {self.variant!r}")
        if not isinstance(self.block_layers, dict):
            bad(f"block_layers must map block names to encoder layers, got {self.block_layers!r}")
        wrong = {block: layer for block, layer in self.block_layers.items()
                 if layer is not None and layer not in self.code_layers}
        if wrong:
            bad(f"block_layers {wrong} name encoder layers without codes (code layers: {list(self.code_layers)})")

    # ---- (de)serialisation ----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["classes"] = [c.to_dict() for c in self.classes]
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(ModelConfig)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"invalid model config: unknown keys {unknown}")
        return ModelConfig(**d)

    def replace(self, **changes: Any) -> "ModelConfig":
        return dataclasses.replace(self, **changes)
