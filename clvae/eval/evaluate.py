"""Evaluate one model on the first N masks of a data set's split (docs/evaluation.md).

For every mask: ``samples`` prior samples (the paper uses 40), the reconstruction
G(E(I, M)), a style transfer from the next mask's image, a re-roll of each measured class,
and a coarse-layer and a fine-layer edit of each measured class, all through the
``clvae.edit`` operations users call. Every random draw is seeded from (seed, mask, purpose),
so two runs, and two models compared on the same masks, use the same seeds.
"""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Iterator, Optional

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from clvae import edit as api
from clvae.config import ModelConfig
from clvae.data.procedural import ClassStatistics, class_statistics
from clvae.edit.sizing import image_to_model, images_from_model, label_to_model
from clvae.eval.backbones.inception import FIDInception
from clvae.eval.backbones.lpips import LPIPS
from clvae.eval.fid import fid
from clvae.eval.metrics import GROUPS, RATIOS, Metric, metrics_of
from clvae.eval.perceptual import (
    closest_in_l1, inception_features, lpips_features, mean_pairwise_distance, pair_distance, select,
)
from clvae.eval.style import (
    MIN_REAL_MASKS, StylePool, change_inside, finite_mean, measured_classes, pixel_l1, statistics, style_distance,
    style_spread,
)

NETWORK_NAMES = {"lpips": "LPIPS", "inception": "FID Inception"}


class EvalError(ValueError):
    """Settings, model and data that cannot be evaluated together; the message says why."""


class Purpose(IntEnum):
    """What a seed is drawn for; part of every derived seed."""

    SAMPLES = 0
    TRANSFER = 1
    REROLL = 2
    EDIT = 3


def derived_seed(seed: int, mask: int, purpose: Purpose, cls: int = 0) -> int:
    """A seed for one purpose at one mask (and class), from the run's ``seed``."""
    return int(np.random.SeedSequence([seed, mask, int(purpose), cls]).generate_state(1)[0])


@dataclass(frozen=True)
class Settings:
    masks: int = 50
    samples: int = 40  # per mask (the paper's 40)
    seed: int = 0
    groups: tuple[str, ...] = GROUPS
    min_pixels: int = 16  # a class needs this many pixels to be measured
    batch: int = 8  # images per forward pass

    def check(self) -> None:
        if self.masks < 1 or self.samples < 2 or self.min_pixels < 1 or self.batch < 1:
            raise EvalError(f"need masks >= 1, samples >= 2, min_pixels >= 1 and batch >= 1; got masks "
                            f"{self.masks}, samples {self.samples}, min_pixels {self.min_pixels}, batch {self.batch}")
        unknown = set(self.groups) - set(GROUPS)
        if unknown or not self.groups:
            raise EvalError(f"metric groups must be some of {', '.join(GROUPS)}, got {', '.join(self.groups)}")


@dataclass
class Networks:
    """The pretrained measuring networks; an absent one is None, with why in ``missing``."""

    lpips: Optional[LPIPS] = None
    inception: Optional[FIDInception] = None
    missing: dict[str, str] = field(default_factory=dict)  # "lpips" / "inception" -> full message


@dataclass
class Scene:
    image: np.ndarray  # (H_m, W_m, 3) uint8 at the model's size
    label: np.ndarray  # (H_m, W_m) int64


@dataclass
class Evaluation:
    """Per metric key: the mean over masks (NaN: none measurable), how many masks gave a
    value, and why a metric is n/a."""

    metrics: list[Metric]
    values: dict[str, float]
    counts: dict[str, int]
    reasons: dict[str, str]


@dataclass
class Context:
    model: nn.Module
    settings: Settings
    networks: Networks
    wanted: set[str]  # the keys to measure: requested, with every need met
    styles: StylePool = field(default_factory=StylePool)  # real and generated class styles of every mask

    @property
    def num_classes(self) -> int:
        return self.model.cfg.num_classes

    def wants(self, *keys: str) -> bool:
        return any(key in self.wanted for key in keys)


# ---- the run -------------------------------------------------------------------------------


def evaluate(model: nn.Module, dataset, settings: Settings, networks: Networks, progress: bool = True,
             name: str = "eval") -> Evaluation:
    """Measure ``model`` on the first ``settings.masks`` items of ``dataset``."""
    settings.check()
    check_data(model.cfg, dataset, settings.masks)
    requested = metrics_of(settings.groups)
    reasons = {m.key: reason for m in requested if (reason := unmet_need(m, model.cfg, networks, settings))}
    ctx = Context(model.eval(), settings, networks, {m.key for m in requested} - set(reasons))
    tally: dict[str, list[float]] = defaultdict(list)
    features: list[np.ndarray] = []  # per mask: Inception features of (real image, reconstruction)
    pairs = scene_pairs(dataset, model.cfg, settings.masks)
    for index, (scene, reference) in enumerate(tqdm(pairs, total=settings.masks, desc=name, unit="mask",
                                                    file=sys.stderr, disable=not progress)):
        values, recon = measure_mask(ctx, index, scene, reference)
        for key, value in values.items():
            tally[key].append(value)
        if ctx.wants("fid"):
            features.append(inception_features(networks.inception, [scene.image, recon], settings.batch))
    pooled = {}  # measured over all masks at once: key -> how many masks
    if ctx.wants("fid"):
        tally["fid"] = [fid(np.stack([f[1] for f in features]), np.stack([f[0] for f in features]))]
        pooled["fid"] = len(features)
    if ctx.wants("style_fd_color"):
        for key, value in zip(("style_fd_color", "style_fd_texture"), ctx.styles.frechet()):
            tally[key], pooled[key] = [value], settings.masks
            if math.isnan(value):
                reasons[key] = f"no class was measured in {MIN_REAL_MASKS} masks"
    evaluation = summarise(requested, tally, reasons)
    evaluation.counts.update({key: count for key, count in pooled.items() if evaluation.counts.get(key)})
    return evaluation


def check_data(cfg: ModelConfig, dataset, masks: int) -> None:
    if len(dataset.classes) != cfg.num_classes:
        raise EvalError(f"the data set has {len(dataset.classes)} classes but the model has {cfg.num_classes}")
    if len(dataset) < masks:
        raise EvalError(f"asked for {masks} masks but the data set has only {len(dataset)} items")


def unmet_need(metric: Metric, cfg: ModelConfig, networks: Networks, settings: Settings) -> Optional[str]:
    """Why ``metric`` cannot be measured for this model with these networks, or None."""
    if metric.key == "fid" and settings.masks < 2:
        return "FID needs at least 2 masks"
    for need in metric.needs:
        if need == "encoder" and not cfg.uses_encoder:
            return f"a {cfg.variant} model has no encoder"
        if need == "class_codes" and not cfg.one_code_per_class:
            return f"a {cfg.variant} model has no class-wise codes"
        if need in NETWORK_NAMES and getattr(networks, need) is None:
            return f"no {NETWORK_NAMES[need]} weights"
    return None


def scene_pairs(dataset, cfg: ModelConfig, count: int) -> Iterator[tuple[Scene, Scene]]:
    """(scene i, scene i + 1) for i < count, the last paired with the first; each read once."""
    first = current = read_scene(dataset, 0, cfg)
    for index in range(count):
        following = read_scene(dataset, index + 1, cfg) if index + 1 < count else first
        yield current, following
        current = following


def read_scene(dataset, index: int, cfg: ModelConfig) -> Scene:
    """Item ``index`` as uint8 image and int64 label at the model's size (Lanczos / nearest)."""
    item = dataset[index]
    image = ((item["image"].permute(1, 2, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    label = item["label"].numpy().astype(np.int64)
    size = (cfg.height, cfg.width)
    if label.shape != size:
        cpu = torch.device("cpu")
        image = images_from_model(image_to_model(image, cfg, cpu), size)[0]
        label = label_to_model(label, cfg, cpu)[0].numpy()
    return Scene(image, label)


# ---- one mask ------------------------------------------------------------------------------


def measure_mask(ctx: Context, index: int, scene: Scene,
                 reference: Scene) -> tuple[dict[str, float], Optional[np.ndarray]]:
    """Every wanted per-mask value, and the reconstruction (None where none is wanted)."""
    s = ctx.settings
    samples = api.generate(ctx.model, scene.label, s.samples, derived_seed(s.seed, index, Purpose.SAMPLES),
                           max_batch=s.batch)
    images = [result.image for result in samples]
    classes = measured_classes(scene.label, ctx.num_classes, s.min_pixels)
    needs_recon = ctx.wants("pixel_l1", "fidelity_reconstruct_color", "gt_similarity", "fid")
    recon = api.reconstruct(ctx.model, scene.image, scene.label).image if needs_recon else None
    values: dict[str, float] = {}
    wants_styles = ctx.wants("class_diversity_color", "style_fd_color")
    sample_styles = statistics(images, scene.label, ctx.num_classes) if wants_styles else []
    if ctx.wants("class_diversity_color"):
        spread = style_spread(sample_styles, classes)
        values.update(class_diversity_color=spread[0], class_diversity_texture=spread[1])
    if ctx.wants("style_fd_color"):
        ctx.styles.add(class_statistics(scene.image, scene.label, ctx.num_classes), sample_styles, classes)
    if ctx.wants("pixel_l1"):
        values["pixel_l1"] = pixel_l1(recon, scene.image)
    if ctx.wants("fidelity_reconstruct_color"):
        truth = class_statistics(scene.image, scene.label, ctx.num_classes)
        values.update(fidelity(ctx, "reconstruct", recon, images[0], scene.label, truth, classes))
    if ctx.wants("fidelity_transfer_color"):
        values.update(transfer_fidelity(ctx, index, scene, reference, images[0], classes))
    for key, anchor in (("locality", True), ("locality_unanchored", False)):
        if ctx.wants(key) and classes.size:
            values[key] = locality(ctx, index, scene, samples[0], classes, anchor)
    if ctx.wants("separation_coarse_color") and classes.size:
        values.update(separation(ctx, index, scene, samples[0], classes))
    if ctx.wants("diversity", "top1_gt_similarity", "gt_similarity"):
        values.update(lpips_scores(ctx, scene, images, recon))
    return {key: value for key, value in values.items() if key in ctx.wanted}, recon


def fidelity(ctx: Context, operation: str, output: np.ndarray, prior_sample: np.ndarray, label: np.ndarray,
             reference: ClassStatistics, classes: np.ndarray) -> dict[str, float]:
    """Style errors of ``output`` and of a prior sample (both drawn for ``label``) against
    ``reference``'s statistics, over ``classes``."""
    made = style_distance(class_statistics(output, label, ctx.num_classes), reference, classes)
    prior = style_distance(class_statistics(prior_sample, label, ctx.num_classes), reference, classes)
    key = f"fidelity_{operation}"
    return {f"{key}_color": made[0], f"{key}_texture": made[1],
            f"{key}_color_prior": prior[0], f"{key}_texture_prior": prior[1]}


def transfer_fidelity(ctx: Context, index: int, scene: Scene, reference: Scene, prior_sample: np.ndarray,
                      classes: np.ndarray) -> dict[str, float]:
    """Transfer the reference's styles onto ``scene``'s mask; errors over the shared classes."""
    shared = np.intersect1d(classes, measured_classes(reference.label, ctx.num_classes, ctx.settings.min_pixels))
    if not shared.size:
        return {}
    seed = derived_seed(ctx.settings.seed, index, Purpose.TRANSFER)
    output = api.transfer(ctx.model, scene.label, reference.image, reference.label, seed=seed).image
    truth = class_statistics(reference.image, reference.label, ctx.num_classes)
    return fidelity(ctx, "transfer", output, prior_sample, scene.label, truth, shared)


def locality(ctx: Context, index: int, scene: Scene, base: api.Result, classes: np.ndarray, anchor: bool) -> float:
    """Mean over ``classes`` of the share of a re-roll's pixel change inside the class
    (``anchor``: with anchored normalisation, as the editing API does by default)."""
    shares = []
    for cls in classes.tolist():
        seed = derived_seed(ctx.settings.seed, index, Purpose.REROLL, cls)
        after = api.reroll(ctx.model, scene.label, base.codes, [cls], None, seed, anchor=anchor).image
        shares.append(change_inside(base.image, after, scene.label == cls))
    return finite_mean(shares)


def separation(ctx: Context, index: int, scene: Scene, base: api.Result, classes: np.ndarray) -> dict[str, float]:
    """How far coarse-layer and fine-layer edits (to the same random target) move each class's
    colour and texture, averaged over ``classes``."""
    before = class_statistics(base.image, scene.label, ctx.num_classes)
    values = {}
    for group in ("coarse", "fine"):
        moved = []
        for cls in classes.tolist():
            seed = derived_seed(ctx.settings.seed, index, Purpose.EDIT, cls)
            after = api.edit(ctx.model, scene.label, base.codes, cls, group, "random", 1.0, seed).image
            moved.append(style_distance(before, class_statistics(after, scene.label, ctx.num_classes), np.array([cls])))
        values[f"separation_{group}_color"] = finite_mean([color for color, _ in moved])
        values[f"separation_{group}_texture"] = finite_mean([texture for _, texture in moved])
    return values


def lpips_scores(ctx: Context, scene: Scene, images: list[np.ndarray], recon: Optional[np.ndarray]) -> dict[str, float]:
    """Diversity, Top-1 GT-similarity and (with an encoder) GT-similarity of one mask."""
    lpips = ctx.networks.lpips
    extra = [scene.image] + ([recon] if recon is not None else [])
    features = lpips_features(lpips, images + extra, ctx.settings.batch)
    count = len(images)
    truth = select(features, count)
    closest = select(features, closest_in_l1(images, scene.image))
    values = {"diversity": mean_pairwise_distance(lpips, select(features, slice(0, count))),
              "top1_gt_similarity": float(pair_distance(lpips, closest, truth)[0])}
    if recon is not None:
        values["gt_similarity"] = float(pair_distance(lpips, select(features, count + 1), truth)[0])
    return values


# ---- the summary ---------------------------------------------------------------------------


def summarise(metrics: list[Metric], tally: dict[str, list[float]], reasons: dict[str, str]) -> Evaluation:
    """Means over masks, then the ratios of means; n/a reasons for what had no value."""
    values, counts, reasons = {}, {}, dict(reasons)
    for metric in metrics:
        if metric.key in reasons or metric.key in RATIOS:
            continue
        finite = [v for v in tally.get(metric.key, []) if math.isfinite(v)]
        values[metric.key] = finite_mean(finite)
        counts[metric.key] = len(finite)
    for key, (numerator, denominator) in RATIOS.items():
        if numerator in values and denominator in values:
            ratio = values[numerator] / values[denominator] if values[denominator] > 0 else math.nan
            values[key], counts[key] = ratio, min(counts[numerator], counts[denominator])
    for key, value in values.items():
        if not math.isfinite(value):
            reasons.setdefault(key, "no mask gave a measurable value")
    return Evaluation(metrics, values, counts, reasons)
