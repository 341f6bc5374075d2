"""Evaluation (docs/evaluation.md): the paper's metrics (section 4.3: GT-similarity, FID,
Diversity, Top-1 GT-similarity, with LPIPS-alex and FID Inception defined in ``backbones``
and loaded from local weight files) and weight-free metrics built on the procedural scenes'
known style factors (class-wise diversity, style fidelity, locality, layer separation,
pixel reconstruction error).

``clvae eval`` (``cli``) measures one model; ``python -m clvae.eval.compare`` (``compare``)
measures several on the same masks and seeds, side by side.
"""

from clvae.eval.evaluate import EvalError, Evaluation, Networks, Settings, evaluate
from clvae.eval.metrics import GROUPS, METRICS, Metric

__all__ = ["EvalError", "Evaluation", "GROUPS", "METRICS", "Metric", "Networks", "Settings", "evaluate"]
