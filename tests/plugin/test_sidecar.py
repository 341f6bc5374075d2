"""Result records: the annotation bytes round trip; damaged or foreign data is refused."""

from __future__ import annotations

import zlib

import msgpack
import pytest

from clvae_krita import sidecar
from clvae_krita.sidecar import Record, SidecarError, StoredArray


def record(**changes) -> Record:
    codes = {"present": StoredArray("bool", (1, 4), bytes([1, 0, 1, 1])),
             "layer_1": StoredArray("float32", (1, 4, 2), bytes(range(32)))}
    fields = dict(operation="reroll", model="tiny", seed=2**40, codes=codes, label_layer="{label}",
                  source="{parent}", classes=[2], created=1700000000.5)
    fields.update(changes)
    return Record(**fields)


def test_round_trip_keeps_every_field():
    records = {"{a}": record(), "{b}": record(operation="generate", seed=None, source=None, classes=[])}
    assert sidecar.decode(sidecar.encode(records)) == records


def test_empty_annotation_holds_no_records():
    assert sidecar.decode(b"") == {}


def test_prune_drops_records_of_deleted_layers():
    records = {"{a}": record(), "{b}": record()}
    assert list(sidecar.prune(records, ["{b}", "{c}"])) == ["{b}"]


@pytest.mark.parametrize("data, message", [
    (b"not zlib", "damaged"),
    (zlib.compress(msgpack.packb({"format": "other"})), "does not hold"),
    (zlib.compress(msgpack.packb({"format": sidecar.FORMAT, "version": 99, "results": {}})), "version 99"),
    (zlib.compress(msgpack.packb({"format": sidecar.FORMAT, "version": 1, "results": {"{a}": {"seed": 1}}})),
     "incomplete"),
])
def test_bad_annotations_are_refused_in_words(data, message):
    with pytest.raises(SidecarError, match=message):
        sidecar.decode(data)
