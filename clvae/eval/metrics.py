"""Every metric ``clvae eval`` reports: its key, what it is, which way is better, and what
it needs (docs/evaluation.md defines each one).

Needs: "encoder" (E, for reconstructions and transfer), "class_codes" (class-wise codes,
for re-rolls and layer edits), "lpips" and "inception" (pretrained weights). A metric whose
needs are not met is reported as n/a with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER, STYLE = "paper", "style"
GROUPS = (PAPER, STYLE)
HIGHER, LOWER, REFERENCE = "higher", "lower", ""
WORDS = {"color": "colour", "texture": "texture"}  # statistic key -> prose


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    better: str  # HIGHER, LOWER, or REFERENCE (a baseline shown for comparison)
    group: str
    needs: tuple[str, ...] = ()


def fidelity_metrics(operation: str, statistic: str) -> list[Metric]:
    """The three numbers of one style-fidelity measurement: output, prior baseline, ratio."""
    key = f"fidelity_{operation}_{statistic}"
    what = f"{WORDS[statistic]} error after {operation}"
    return [
        Metric(key, f"class {what}", LOWER, STYLE, ("encoder",)),
        Metric(f"{key}_prior", f"class {WORDS[statistic]} error of a prior sample (baseline)", REFERENCE, STYLE,
               ("encoder",)),
        Metric(f"{key}_ratio", f"{what} / prior sample's", LOWER, STYLE, ("encoder",)),
    ]


def separation_metrics() -> list[Metric]:
    moved = [Metric(f"separation_{group}_{statistic}", f"class {WORDS[statistic]} moved by a {group}-layer edit",
                    REFERENCE, STYLE, ("class_codes",))
             for group in ("coarse", "fine") for statistic in ("color", "texture")]
    return moved + [
        Metric("separation_color_ratio", "colour moved: coarse / fine edit", HIGHER, STYLE, ("class_codes",)),
        Metric("separation_texture_ratio", "texture moved: fine / coarse edit", HIGHER, STYLE, ("class_codes",)),
    ]


METRICS: list[Metric] = [
    Metric("gt_similarity", "GT-similarity: LPIPS(G(E(I, M)), I)", LOWER, PAPER, ("encoder", "lpips")),
    Metric("fid", "FID of the reconstructions G(E(I, M)) against the real images", LOWER, PAPER,
           ("encoder", "inception")),
    Metric("diversity", "Diversity: mean LPIPS over all pairs of samples of a mask", HIGHER, PAPER, ("lpips",)),
    Metric("top1_gt_similarity", "Top-1 GT-similarity: LPIPS to I of the sample closest in L1", LOWER, PAPER,
           ("lpips",)),
    Metric("pixel_l1", "pixel reconstruction error: mean absolute G(E(I, M)) - I, in [0, 1]", LOWER, STYLE,
           ("encoder",)),
    Metric("class_diversity_color", "class-wise diversity: spread of each class's mean colour over samples",
           HIGHER, STYLE),
    Metric("class_diversity_texture", "class-wise diversity: spread of each class's texture over samples",
           HIGHER, STYLE),
    Metric("style_fd_color", "style realism: Fréchet distance of class colours, prior samples vs real images",
           LOWER, STYLE),
    Metric("style_fd_texture", "style realism: Fréchet distance of class textures, prior samples vs real images",
           LOWER, STYLE),
    *fidelity_metrics("reconstruct", "color"),
    *fidelity_metrics("reconstruct", "texture"),
    *fidelity_metrics("transfer", "color"),
    *fidelity_metrics("transfer", "texture"),
    Metric("locality", "locality: share of a class re-roll's pixel change inside the class", HIGHER, STYLE,
           ("class_codes",)),
    Metric("locality_unanchored", "locality without anchored normalisation (the plain render)", REFERENCE, STYLE,
           ("class_codes",)),
    *separation_metrics(),
]

METRIC = {metric.key: metric for metric in METRICS}

# ratio key -> (numerator key, denominator key): ratios of the means over masks.
RATIOS: dict[str, tuple[str, str]] = {
    **{f"fidelity_{op}_{st}_ratio": (f"fidelity_{op}_{st}", f"fidelity_{op}_{st}_prior")
       for op in ("reconstruct", "transfer") for st in ("color", "texture")},
    "separation_color_ratio": ("separation_coarse_color", "separation_fine_color"),
    "separation_texture_ratio": ("separation_fine_texture", "separation_coarse_texture"),
}


def metrics_of(groups: tuple[str, ...]) -> list[Metric]:
    return [metric for metric in METRICS if metric.group in groups]
