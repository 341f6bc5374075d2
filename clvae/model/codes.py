"""The latent codes Z = {z_1, z_2, ..., z_L} of one or more images (section 3.2.1).

``Codes`` holds z_1 (B, N_1) and, per encoder layer l, a code tensor (B, S, N) with one
row per class (S = C) or a single shared row (S = 1, the no_classwise ablation), plus
which classes the mask they were made for contains. It can be sampled from the prior
(Eq. 11), sliced by image, mixed class by class and layer by layer, and turned into
plain numpy arrays (and back) for presets and the wire protocol.

An edited image may also carry an *anchor*: the codes of the image it was edited from,
whose normalisation statistics it is rendered with (``clvae.model.anchor``), so the codes
alone still remake the image exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
import torch

from clvae.config import ModelConfig

LAYER_PREFIX = "layer_"
ANCHOR_PREFIX = "anchor_"


class CodesError(ValueError):
    """Codes that do not fit a model, or that hold non-finite values."""


@dataclass
class Codes:
    z_global: Optional[torch.Tensor]  # (B, N_1), None for gaugan
    layers: dict[int, torch.Tensor]  # encoder layer l -> (B, S, N)
    present: torch.Tensor  # (B, C) bool: classes in the mask these codes were made for
    anchor: Optional["Codes"] = None  # codes whose norm statistics the image uses (same batch); None: its own

    # ---- construction -------------------------------------------------------------
    @staticmethod
    def prior(cfg: ModelConfig, present: torch.Tensor, generator: Optional[torch.Generator] = None) -> "Codes":
        """Draw every code from N(0, I) (Eqs. 3, 11), on the CPU so a seed means the same
        codes on every device."""
        batch = present.shape[0]

        def draw(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=generator)

        z_global = draw(batch, cfg.z_dim) if cfg.uses_encoder else None
        layers = {l: draw(batch, cfg.codes_per_layer, cfg.code_channels) for l in cfg.code_layers}
        return Codes(z_global, layers, present.cpu().bool())

    # ---- shape and checks ---------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self.present.shape[0]

    def check(self, cfg: ModelConfig) -> None:
        """Raise CodesError unless these codes fit ``cfg``'s model and are finite."""
        b = self.batch_size
        if self.present.shape != (b, cfg.num_classes):
            raise CodesError(f"codes are for {self.present.shape[-1]} classes, the model has {cfg.num_classes}")
        if cfg.uses_encoder != (self.z_global is not None):
            raise CodesError("codes and model disagree on having a global code z_1")
        if self.z_global is not None and self.z_global.shape != (b, cfg.z_dim):
            raise CodesError(f"z_1 has shape {tuple(self.z_global.shape)}, the model needs ({b}, {cfg.z_dim})")
        if set(self.layers) != set(cfg.code_layers):
            raise CodesError(f"codes have layers {sorted(self.layers)}, the model needs {list(cfg.code_layers)}")
        expected = (b, cfg.codes_per_layer, cfg.code_channels)
        for layer, code in self.layers.items():
            if tuple(code.shape) != expected:
                raise CodesError(f"layer {layer} code has shape {tuple(code.shape)}, the model needs {expected}")
        for name, tensor in self.tensors().items():
            if not torch.isfinite(tensor).all():
                raise CodesError(f"codes hold NaN or infinite values ({name})")
        if self.anchor is not None:
            self._check_anchor(cfg)

    def _check_anchor(self, cfg: ModelConfig) -> None:
        if self.anchor.anchor is not None:
            raise CodesError("an anchor has no anchor of its own")
        if self.anchor.batch_size != self.batch_size:
            raise CodesError(f"the anchor is for {self.anchor.batch_size} images, the codes for {self.batch_size}")
        try:
            self.anchor.check(cfg)
        except CodesError as err:
            raise CodesError(f"anchor: {err}") from None

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every code tensor under its array name: "z_global", "layer_<l>"."""
        named = {f"{LAYER_PREFIX}{l}": code for l, code in self.layers.items()}
        if self.z_global is not None:
            named["z_global"] = self.z_global
        return named

    # ---- transforms ----------------------------------------------------------------
    def map(self, fn) -> "Codes":
        """Apply ``fn`` to every tensor (present and the anchor's included)."""
        z = fn(self.z_global) if self.z_global is not None else None
        anchor = self.anchor.map(fn) if self.anchor is not None else None
        return Codes(z, {l: fn(c) for l, c in self.layers.items()}, fn(self.present), anchor)

    def plain(self) -> "Codes":
        """These codes without an anchor (rendered with their own statistics)."""
        return Codes(self.z_global, self.layers, self.present)

    def anchored_to(self, edited: "Codes") -> "Codes":
        """These codes rendered with the statistics of the image of ``edited`` (the codes
        they were edited from): ``edited``'s anchor if it has one, so chains keep the first."""
        return Codes(self.z_global, self.layers, self.present, edited.anchor if edited.anchor is not None else edited.plain())

    def to(self, device: torch.device | str) -> "Codes":
        return self.map(lambda t: t.to(device))

    def clone(self) -> "Codes":
        return self.map(lambda t: t.clone())

    def select(self, index: int | slice | torch.Tensor) -> "Codes":
        """The codes of some images of the batch (keeps the batch dimension)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return self.map(lambda t: t[index])

    @staticmethod
    def cat(parts: Iterable["Codes"]) -> "Codes":
        parts = list(parts)
        z = torch.cat([p.z_global for p in parts]) if parts[0].z_global is not None else None
        layers = {l: torch.cat([p.layers[l] for p in parts]) for l in parts[0].layers}
        anchor = None
        if any(p.anchor is not None for p in parts):  # an image without one is its own anchor
            anchor = Codes.cat(p.plain() if p.anchor is None else p.anchor for p in parts)
        return Codes(z, layers, torch.cat([p.present for p in parts]), anchor)

    def mix(
        self,
        other: "Codes",
        classes: Optional[Iterable[int]] = None,
        layers: Optional[Iterable[int]] = None,
        take_global: bool = False,
        weight: float = 1.0,
    ) -> "Codes":
        """Move the chosen classes' codes at the chosen layers towards ``other``'s.

        ``weight`` 1 replaces them (re-roll, transfer), between 0 and 1 interpolates
        (material editing, section 4.4.3). ``classes``/``layers`` None means all.
        Codes of shared-row models (S = 1) ignore ``classes``.
        """
        out = self.clone()
        for layer in self.layers if layers is None else layers:
            code, target = out.layers[layer], other.layers[layer].to(out.layers[layer])
            rows = slice(None) if classes is None or code.shape[1] == 1 else list(classes)
            code[:, rows] = torch.lerp(code[:, rows], target[:, rows], weight)
        if take_global and out.z_global is not None:
            out.z_global = torch.lerp(out.z_global, other.z_global.to(out.z_global), weight)
        return out

    # ---- plain arrays ----------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """float32 / bool numpy arrays: "z_global", "layer_<l>", "present", and the
        anchor's under the same names with "anchor_" in front."""
        arrays = {name: t.detach().float().cpu().numpy() for name, t in self.tensors().items()}
        arrays["present"] = self.present.cpu().numpy().astype(bool)
        if self.anchor is not None:
            arrays.update({ANCHOR_PREFIX + name: array for name, array in self.anchor.to_arrays().items()})
        return arrays

    @staticmethod
    def from_arrays(arrays: dict[str, np.ndarray]) -> "Codes":
        """Inverse of ``to_arrays``; raises CodesError on missing or malformed entries."""
        anchor_arrays = {name[len(ANCHOR_PREFIX):]: a for name, a in arrays.items() if name.startswith(ANCHOR_PREFIX)}
        arrays = {name: a for name, a in arrays.items() if not name.startswith(ANCHOR_PREFIX)}
        anchor = Codes.from_arrays(anchor_arrays) if anchor_arrays else None
        if "present" not in arrays:
            raise CodesError("codes lack the 'present' array")
        layers = {}
        for name, array in arrays.items():
            if name.startswith(LAYER_PREFIX):
                suffix = name[len(LAYER_PREFIX):]
                if not suffix.isdigit() or np.ndim(array) != 3:
                    raise CodesError(f"bad code array {name!r} of shape {np.shape(array)}")
                layers[int(suffix)] = torch.as_tensor(np.asarray(array, dtype=np.float32))
        z = arrays.get("z_global")
        z_global = None if z is None else torch.as_tensor(np.asarray(z, dtype=np.float32))
        present = torch.as_tensor(np.asarray(arrays["present"], dtype=bool))
        if present.ndim != 2:
            raise CodesError(f"'present' must be (batch, classes), got shape {tuple(present.shape)}")
        return Codes(z_global, dict(sorted(layers.items())), present, anchor)
