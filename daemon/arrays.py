"""numpy <-> protocol arrays, for the daemon and for tests (the protocol itself has no numpy)."""

from __future__ import annotations

import numpy as np

from daemon.protocol import Array, array_from_bytes


def to_numpy(array: Array) -> np.ndarray:
    """A writable copy of ``array`` in native byte order."""
    dtype = np.dtype(array.dtype).newbyteorder("<")
    return np.frombuffer(array.data, dtype=dtype).reshape(array.shape).astype(dtype.newbyteorder("="))


def from_numpy(array: np.ndarray) -> Array:
    """``array`` (a protocol dtype) as little-endian C-order bytes, without a copy where it is one."""
    array = np.asarray(array)
    wire = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    return array_from_bytes(memoryview(wire).cast("B"), array.dtype.name, wire.shape)


def codes_to_numpy(codes: dict[str, Array]) -> dict[str, np.ndarray]:
    return {name: to_numpy(array) for name, array in codes.items()}


def codes_from_numpy(arrays: dict[str, np.ndarray]) -> dict[str, Array]:
    return {name: from_numpy(array) for name, array in arrays.items()}
