"""Requests with numpy inputs, and comparisons with the editing API's own results."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np
import torch

from clvae import edit as api
from clvae.model.codes import Codes
from daemon.arrays import codes_from_numpy, codes_to_numpy, from_numpy, to_numpy
from daemon.client import Client, Event


def to_wire(value: Any) -> Any:
    """numpy arrays and Codes as the protocol carries them; anything else as it is."""
    if isinstance(value, np.ndarray):
        return from_numpy(value)
    if isinstance(value, Codes):
        return codes_from_numpy(value.to_arrays())
    return value


def body(**fields: Any) -> dict[str, Any]:
    return {name: to_wire(value) for name, value in fields.items()}


def ask(client: Client, type: str, **fields: Any) -> Event:
    return client.request(type, body(**fields))


def results(event: Event) -> list[tuple[Optional[np.ndarray], Codes, Optional[int]]]:
    """(image or None, codes, seed) of each result of a result event."""
    assert event.type == "result", event
    return [(to_numpy(r["image"]) if "image" in r else None, Codes.from_arrays(codes_to_numpy(r["codes"])), r["seed"])
            for r in event.body["results"]]


def assert_same_codes(a: Codes, b: Codes) -> None:
    assert a.tensors().keys() == b.tensors().keys()
    for name, tensor in a.tensors().items():
        torch.testing.assert_close(tensor, b.tensors()[name], rtol=0, atol=0)
    assert torch.equal(a.present, b.present)


def assert_same_results(event: Event, expected: list[api.Result], images: bool = True) -> None:
    """The daemon's results are the API's: same pixels, same codes, same seeds."""
    got = results(event)
    assert len(got) == len(expected)
    for (image, codes, seed), want in zip(got, expected):
        assert seed == want.seed
        assert_same_codes(codes, want.codes)
        if images:
            assert np.array_equal(image, want.image)
        else:
            assert image is None
