"""Synthesis and editing (section 4.4): numpy in, numpy out.

Every operation takes a label map (H, W) of class ids at any size and returns ``Result``s
whose image has exactly that size (``sizing``), with the codes that made it (batch 1,
on the CPU) and the seed of its random draws, so any result can be remade or edited
further. Inputs are checked first; problems raise ``EditError`` with a short code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Literal, Optional, Sequence

import numpy as np
import torch
from torch import nn

from clvae.config import ModelConfig
from clvae.edit.checks import (
    ClassRef, check_codes, check_count, check_feather, check_image, check_label, check_same_size, check_seed,
    check_strength, require_class_codes, require_encoder, require_present, resolve_classes,
)
from clvae.edit.errors import Cancelled, EditError
from clvae.edit.feather import preserve_outside
from clvae.edit.groups import LayerSpec, resolve_layers
from clvae.edit.presets import Preset, preset_class, preset_codes
from clvae.edit.sizing import image_to_model, images_from_model, label_to_model
from clvae.model.codes import Codes
from clvae.model.encoder import present_classes

DEFAULT_MAX_BATCH = 8  # images per forward pass in ``generate``: bounds memory
DEFAULT_FEATHER = 8  # pixels of blended edge around a re-rolled region
Progress = Callable[[int, int], None]  # (done, total)
EditTarget = Literal["random", "direction"] | Codes


@dataclass
class Result:
    image: np.ndarray  # (H, W, 3) uint8, the input label map's size
    codes: Codes  # the codes of this one image (batch 1, CPU)
    seed: Optional[int]  # seed of its random draws; None where it made none


# ---- the operations ----------------------------------------------------------------------


def generate(model: nn.Module, label: np.ndarray, n: int = 1, seed: Optional[int] = None, *,
             max_batch: int = DEFAULT_MAX_BATCH, progress: Optional[Progress] = None,
             should_cancel: Optional[Callable[[], bool]] = None) -> list[Result]:
    """n images of ``label``, every code drawn from the prior N(0, I) (Eq. 11).

    Image i uses seed + i (``seed`` None: a fresh one), so ``generate(..., n=1, seed=r.seed)``
    remakes result r. Up to ``max_batch`` images share a forward pass; ``progress(done,
    total)`` is called after each pass and ``should_cancel()`` before it (``Cancelled``).
    """
    n = check_count(n)
    max_batch = check_count(max_batch, "max_batch")
    seed = check_seed(seed, n)
    label, model_label = prepare_label(model, label)
    results: list[Result] = []
    for start in range(0, n, max_batch):
        if should_cancel is not None and should_cancel():
            raise Cancelled(f"generation cancelled after {start} of {n} images")
        seeds = range(seed + start, seed + min(n, start + max_batch))
        codes = Codes.cat(_prior(model, model_label, s) for s in seeds)
        images = _render(model, model_label.expand(len(seeds), -1, -1), codes, label.shape)
        results += [Result(image, codes.select(i), s) for i, (image, s) in enumerate(zip(images, seeds))]
        if progress is not None:
            progress(len(results), n)
    return results


def reroll(model: nn.Module, label: np.ndarray, codes: Codes, classes: ClassRef | Sequence[ClassRef], layers: LayerSpec = None,
           seed: Optional[int] = None, *, preserve: Optional[np.ndarray] = None,
           feather: int = DEFAULT_FEATHER, anchor: bool = True) -> Result:
    """New prior codes for ``classes`` at ``layers`` (None: all), every other code kept
    (object editing, section 4.4.2).

    ``preserve``: the original image (H, W, 3) uint8; its pixels are copied back outside the
    re-rolled classes, blended over ``feather`` pixels, so nothing farther changes.
    ``anchor`` (the default): the result's codes carry ``codes``' image as their anchor and
    are rendered with its normalisation statistics, so the other classes keep their look
    (``clvae.model.anchor``); False: a plain render, no anchor.
    """
    cfg = model.cfg
    require_class_codes(cfg)
    label, model_label = prepare_label(model, label)
    check_codes(codes, cfg)
    chosen = resolve_classes(cfg, classes)
    chosen_layers = resolve_layers(model, layers)
    require_present(cfg, chosen, label, model_label)
    feather = check_feather(feather)
    if preserve is not None:
        check_same_size(check_image(preserve, "image to preserve"), label, "image to preserve")
    seed = check_seed(seed)
    new_codes = codes.mix(_prior(model, model_label, seed), chosen, chosen_layers)
    result = render_result(model, label, model_label, _anchor_edit(new_codes, codes, anchor), seed)
    if preserve is not None:
        result.image = preserve_outside(result.image, preserve, np.isin(label, chosen), feather)
    return result


def transfer(model: nn.Module, label: np.ndarray, ref_image: np.ndarray, ref_label: np.ndarray,
             classes: Optional[ClassRef | Sequence[ClassRef]] = None, seed: Optional[int] = None, *,
             take_global: bool = True) -> Result:
    """Style-guided synthesis (section 4.4.1): the encoder's means E_{l,c}(I_ref) for the
    classes in both label maps (or the chosen ones of them), prior samples for the rest.

    ``take_global``: z_1 is the reference's mean too (our choice: the paper speaks only of
    the class-wise codes); False draws it from the prior, so only the shared classes follow
    the reference.
    """
    cfg = model.cfg
    require_encoder(cfg)
    label, model_label = prepare_label(model, label)
    ref_label, ref_model_label = prepare_label(model, ref_label)
    ref_image = check_image(ref_image, "reference image")
    check_same_size(ref_image, ref_label, "reference image")
    shared = _shared_classes(cfg, model_label, ref_model_label)
    chosen = shared if classes is None else _require_shared(cfg, resolve_classes(cfg, classes), shared)
    seed = check_seed(seed)
    style = _encode_means(model, ref_image, ref_model_label)
    layers = None if chosen else []
    codes = _prior(model, model_label, seed).mix(style, chosen, layers, take_global=take_global)
    return render_result(model, label, model_label, codes, seed)


def reconstruct(model: nn.Module, image: np.ndarray, label: np.ndarray) -> Result:
    """G(E(I, M)) with the encoder's means: how well the model reproduces ``image``."""
    require_encoder(model.cfg)
    label, model_label = prepare_label(model, label)
    check_same_size(check_image(image), label, "image")
    return render_result(model, label, model_label, _encode_means(model, image, model_label), None)


def edit(model: nn.Module, label: np.ndarray, codes: Codes, cls: ClassRef, layers: LayerSpec = None,
         target: EditTarget = "random", strength: float = 0.5, seed: Optional[int] = None, *,
         anchor: bool = True) -> Result:
    """Move class ``cls``'s codes at ``layers`` (material editing, section 4.4.3).

    ``target``: "random" interpolates towards a seeded prior draw, a ``Codes`` (e.g. another
    image's style) towards its code of ``cls``, by ``strength`` (0 keeps, 1 reaches it, above
    1 extrapolates past it); "direction" steps along a seeded random unit direction by
    ``strength`` x sqrt(N), so strength 1 is about one prior code's length. ``anchor``: as in
    ``reroll``.
    """
    cfg = model.cfg
    require_class_codes(cfg)
    label, model_label = prepare_label(model, label)
    check_codes(codes, cfg)
    chosen = resolve_classes(cfg, [cls])
    chosen_layers = resolve_layers(model, layers)
    require_present(cfg, chosen, label, model_label)
    strength = check_strength(strength)
    if isinstance(target, Codes):
        check_codes(target, cfg, "target codes")
        if not target.present[0, chosen[0]]:
            raise EditError("class_absent", f"the target codes were not made for a mask with {cfg.classes[chosen[0]].name}")
        seed = None
    elif target in ("random", "direction"):
        seed = check_seed(seed)
        draw = _prior(model, model_label, seed)
        target = draw if target == "random" else _step_along(codes, draw, cfg.code_channels)
    else:
        raise EditError("bad_target", f"target must be 'random', 'direction' or Codes, got {target!r}")
    moved = codes.mix(target, chosen, chosen_layers, weight=strength)
    return render_result(model, label, model_label, _anchor_edit(moved, codes, anchor), seed)


def apply_preset(model: nn.Module, label: np.ndarray, codes: Codes, preset: Preset,
                 cls: Optional[ClassRef] = None, *, anchor: bool = True) -> Result:
    """``codes`` with a saved style for one class (``preset_codes``), rendered for ``label``
    (``anchor``: as in ``reroll``)."""
    cfg = model.cfg
    label, model_label = prepare_label(model, label)
    class_id = preset_class(cfg, preset, cls)
    require_present(cfg, [class_id], label, model_label)
    styled = preset_codes(cfg, codes, preset, class_id)
    return render_result(model, label, model_label, _anchor_edit(styled, codes, anchor), None)


# ---- shared steps (render.py uses prepare_label and render_result too) -------------------


def prepare_label(model: nn.Module, label: np.ndarray) -> tuple[np.ndarray, torch.Tensor]:
    """The checked label (H, W) int64 and the model's view of it, (1, H_m, W_m) on its device."""
    model.eval()
    label = check_label(label, model.cfg)
    return label, label_to_model(label, model.cfg, _device(model))


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _prior(model: nn.Module, model_label: torch.Tensor, seed: int) -> Codes:
    """Prior codes (Eq. 11) of one image, drawn on the CPU from ``seed``."""
    return model.prior(model_label, torch.Generator().manual_seed(seed))


def _encode_means(model: nn.Module, image: np.ndarray, model_label: torch.Tensor) -> Codes:
    """The posterior means of E(I, M) (batch 1, CPU)."""
    with torch.inference_mode():
        posterior = model.encode(image_to_model(image, model.cfg, _device(model)), model_label)
    return posterior.mu.map(lambda t: t.cpu().clone())  # clone: plain tensors outside inference mode


def _render(model: nn.Module, model_label: torch.Tensor, codes: Codes, size: tuple[int, int]) -> list[np.ndarray]:
    """G(M, Z): (B, H_m, W_m) labels and their codes -> B images (H, W, 3) uint8 at ``size``."""
    with torch.inference_mode():
        images = model(model_label, codes.to(model_label.device))
    return images_from_model(images, size)


def _anchor_edit(edited: Codes, original: Codes, anchor: bool) -> Codes:
    """The edited codes, anchored to the image of ``original`` or (``anchor`` False) plain."""
    return edited.anchored_to(original) if anchor else edited.plain()


def render_result(model: nn.Module, label: np.ndarray, model_label: torch.Tensor, codes: Codes,
                  seed: Optional[int]) -> Result:
    """Render one image and return it with its codes, marked as made for ``label``."""
    codes = Codes(codes.z_global, codes.layers, present_classes(model_label, model.cfg.num_classes).cpu(),
                  codes.anchor)
    return Result(_render(model, model_label, codes, label.shape)[0], codes, seed)


def _shared_classes(cfg: ModelConfig, model_label: torch.Tensor, ref_model_label: torch.Tensor) -> list[int]:
    """C(M_s) ∩ C(M_t), as the model sees both maps."""
    both = present_classes(model_label, cfg.num_classes) & present_classes(ref_model_label, cfg.num_classes)
    return both[0].nonzero().flatten().tolist()


def _require_shared(cfg: ModelConfig, chosen: list[int], shared: list[int]) -> list[int]:
    missing = [cfg.classes[c].name for c in chosen if c not in shared]
    if missing:
        raise EditError("class_not_shared", f"class {', '.join(missing)} is not in both the label map and the "
                        "reference's (at the model's size)")
    return chosen


def _step_along(codes: Codes, draw: Codes, code_channels: int) -> Codes:
    """``codes`` moved by sqrt(N) along the unit directions of ``draw``'s layer codes."""
    length = math.sqrt(code_channels)
    layers = {l: code + length * draw.layers[l] / draw.layers[l].norm(dim=-1, keepdim=True)
              for l, code in codes.layers.items()}
    return Codes(codes.z_global, layers, codes.present)
