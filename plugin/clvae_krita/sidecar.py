"""How each result layer was made, kept inside the .kra.

Every result layer gets a ``Record`` (the operation, model, seed and the codes the daemon
returned) keyed by the layer's unique id, which Krita keeps across save and reopen. All
records of a document travel as one document annotation (``ANNOTATION``): a zlib-compressed
msgpack map, never pickle. So "re-roll the sky of this result" works on any result layer,
also in a reopened file.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import msgpack

ANNOTATION = "clvae-results"
DESCRIPTION = "clvae: how each result layer was made (seed and codes)"
FORMAT = "clvae-results"
VERSION = 1


class SidecarError(ValueError):
    """Stored records that cannot be read."""


@dataclass(frozen=True)
class StoredArray:
    """An array as the protocol carries it: little-endian C-order bytes."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes


@dataclass
class Record:
    operation: str  # generate, reroll, edit, transfer
    model: str
    seed: Optional[int]
    codes: dict[str, StoredArray]
    label_layer: str  # unique id of the label layer it was made from
    source: Optional[str] = None  # unique id of the result layer it was derived from
    classes: list[int] = field(default_factory=list)  # the classes an edit changed
    created: float = field(default_factory=time.time)


def encode(records: dict[str, Record]) -> bytes:
    """The annotation bytes of ``records`` (layer unique id -> record)."""
    body = {"format": FORMAT, "version": VERSION,
            "results": {uid: _record_to_map(record) for uid, record in records.items()}}
    return zlib.compress(msgpack.packb(body, use_bin_type=True))


def decode(data: bytes) -> dict[str, Record]:
    """Records from annotation bytes; empty bytes hold none."""
    if not data:
        return {}
    try:
        body = msgpack.unpackb(zlib.decompress(data), raw=False, strict_map_key=True)
    except (zlib.error, ValueError, msgpack.UnpackException) as error:
        raise SidecarError(f"the stored result records are damaged: {error}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SidecarError(f"the annotation {ANNOTATION!r} does not hold clvae's result records")
    if body.get("version") != VERSION:
        raise SidecarError(f"result records of version {body.get('version')!r}; this plugin reads {VERSION}")
    try:
        return {str(uid): _record_from_map(entry) for uid, entry in body["results"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SidecarError(f"a stored result record is incomplete: {error!r}") from None


def prune(records: dict[str, Record], live: Iterable[str]) -> dict[str, Record]:
    """Only the records of layers that still exist."""
    alive = set(live)
    return {uid: record for uid, record in records.items() if uid in alive}


def _record_to_map(record: Record) -> dict[str, Any]:
    return {"operation": record.operation, "model": record.model, "seed": record.seed,
            "codes": {name: {"dtype": a.dtype, "shape": list(a.shape), "data": a.data}
                      for name, a in record.codes.items()},
            "label_layer": record.label_layer, "source": record.source, "classes": list(record.classes),
            "created": record.created}


def _record_from_map(entry: dict[str, Any]) -> Record:
    codes = {name: StoredArray(str(a["dtype"]), tuple(int(n) for n in a["shape"]), bytes(a["data"]))
             for name, a in entry["codes"].items()}
    return Record(str(entry["operation"]), str(entry["model"]), entry["seed"], codes, str(entry["label_layer"]),
                  entry.get("source"), [int(c) for c in entry.get("classes", [])], float(entry["created"]))
