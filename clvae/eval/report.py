"""Evaluation results as JSON and as a Markdown table (one column per evaluated model)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

from clvae.eval.evaluate import NETWORK_NAMES, Evaluation
from clvae.eval.metrics import HIGHER, LOWER, METRICS, Metric

REPORT_FORMAT = 1
ARROWS = {HIGHER: "↑", LOWER: "↓"}


def metric_entry(evaluation: Evaluation, key: str) -> dict[str, Any]:
    """One metric's JSON entry: value (None when n/a), masks measured, and why n/a."""
    value = evaluation.values.get(key, math.nan)
    reason: Optional[str] = evaluation.reasons.get(key)
    return {"value": value if math.isfinite(value) else None, "masks": evaluation.counts.get(key, 0),
            "reason": reason}


def metrics_json(evaluation: Evaluation) -> dict[str, Any]:
    """Metric key -> title, which way is better, value, masks measured, why n/a."""
    return {m.key: {"title": m.title, "better": m.better or "reference", **metric_entry(evaluation, m.key)}
            for m in evaluation.metrics}


def evaluation_json(evaluation: Evaluation, about: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of one evaluation; ``about`` says what was evaluated and how."""
    return {"format": REPORT_FORMAT, **about, "metrics": metrics_json(evaluation)}


def format_cell(entry: dict[str, Any]) -> str:
    if entry["value"] is None:
        return f"n/a ({entry['reason']})"
    return f"{entry['value']:.4g}"


def best_column(metric: Metric, entries: list[dict[str, Any]]) -> Optional[int]:
    """The index of the best value among several models, for bold; None when not comparable."""
    scored = [(e["value"], i) for i, e in enumerate(entries) if e["value"] is not None]
    if metric.better not in ARROWS or len(entries) < 2 or len(scored) < 2:
        return None
    return (max(scored) if metric.better == HIGHER else min(scored))[1]


def markdown_table(columns: dict[str, Evaluation]) -> str:
    """A table of every metric any of ``columns`` (name -> evaluation) measured."""
    keys = {m.key for evaluation in columns.values() for m in evaluation.metrics}
    names = list(columns)
    lines = ["| metric | better | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for metric in (m for m in METRICS if m.key in keys):
        entries = [metric_entry(columns[name], metric.key) for name in names]
        best = best_column(metric, entries)
        cells = [f"**{format_cell(e)}**" if i == best else format_cell(e) for i, e in enumerate(entries)]
        better = ARROWS.get(metric.better, "ref.")
        lines.append(f"| `{metric.key}` {metric.title} | {better} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def describe_run(about: dict[str, Any]) -> str:
    """One sentence on what was measured, from the JSON's ``data`` and ``settings``."""
    data, settings = about["data"], about["settings"]
    return (f"{data['masks']} masks of the {data['kind']} data set's {data['split']} split; "
            f"{settings['samples']} samples per mask; seed {settings['seed']}; classes with at least "
            f"{settings['min_pixels']} pixels measured. Metric definitions: docs/evaluation.md.")


def markdown_document(title: str, about: dict[str, Any], columns: dict[str, Evaluation], extra: str = "") -> str:
    """A Markdown page: title, what was measured, the table, anything ``extra``, skip notes."""
    parts = [f"# {title}", describe_run(about), markdown_table(columns)]
    parts += [extra] if extra else []
    parts += [f"Skipped the metrics that need {NETWORK_NAMES[name]}: its weights were not found "
              f"(docs/evaluation.md says where they go)." for name in about["skipped"]]
    return "\n\n".join(parts) + "\n"
