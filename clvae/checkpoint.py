"""Pickle-free, atomic checkpoints: one ``.safetensors`` file per checkpoint.

The file holds every tensor; a JSON document (config, class names, step, packed training
state...) lives in the safetensors header's ``__metadata__`` under the key ``"clvae"``.
Nothing is ever unpickled, so loading a checkpoint cannot run code.

Writes are atomic: the bytes go to a temporary file beside the target, are flushed and
fsynced, then ``os.replace`` swaps it in and the directory is fsynced. A crash at any moment
leaves the old checkpoint or the new one, never a torn file.

``pack_state`` / ``unpack_state`` turn nested training state (optimizer and scheduler
state dicts, RNG states) into a flat tensor dict plus a JSON document and back, keeping
int dict keys as ints and tuples as tuples.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import random
import secrets
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import safetensors.torch
import torch
from safetensors import SafetensorError, safe_open

META_KEY = "clvae"

# Tags marking JSON objects that stand for something JSON cannot hold. Plain dicts whose
# keys are strings not starting with "$" are stored as JSON objects; every other dict goes
# through the "$dict" form, so a tag can never be mistaken for user data.
_TENSOR, _NDARRAY, _TUPLE, _DICT = "$tensor", "$ndarray", "$tuple", "$dict"

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class CheckpointError(Exception):
    """A checkpoint could not be written or read; the message names the file."""


# ---- files -----------------------------------------------------------------------------


def save_checkpoint(path: str | os.PathLike, tensors: Mapping[str, torch.Tensor],
                    meta: Mapping[str, Any]) -> None:
    """Write ``tensors`` and the JSON document ``meta`` atomically to ``path``."""
    path = Path(path)
    try:
        meta_json = json.dumps(meta)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"cannot write checkpoint {path}: its metadata is not JSON: {err}") from err
    try:
        data = safetensors.torch.save(_standalone(tensors), metadata={META_KEY: meta_json})
    except (TypeError, ValueError, SafetensorError) as err:
        raise CheckpointError(f"cannot write checkpoint {path}: {err}") from err
    _atomic_write(path, data)


def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu"
                    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a checkpoint written by ``save_checkpoint``: ``(tensors, meta)``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist (or is not a file)")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            header = f.metadata() or {}
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except SafetensorError as err:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint "
                              f"(truncated, corrupt or another format): {err}") from err
    except OSError as err:
        raise CheckpointError(f"cannot read checkpoint {path}: {err.strerror or err}") from err
    if META_KEY not in header:
        raise CheckpointError(f"{path} is a safetensors file but not a clvae checkpoint: "
                              f"its header has no {META_KEY!r} metadata")
    try:
        meta = json.loads(header[META_KEY])
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: the {META_KEY!r} metadata is not valid JSON: {err}") from err
    return tensors, meta


def _standalone(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous tensors, cloning any that share storage with an earlier one
    (safetensors refuses shared storage)."""
    result: dict[str, torch.Tensor] = {}
    seen_storages: set[tuple[str, int]] = set()
    for key, tensor in tensors.items():
        tensor = tensor.detach().contiguous()
        storage = (str(tensor.device), tensor.untyped_storage().data_ptr())
        if storage in seen_storages:
            tensor = tensor.clone()
        seen_storages.add(storage)
        result[key] = tensor
    return result


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "xb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException as err:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise CheckpointError(_write_failure(path, err)) from err
        raise


def _write_all(f, data: bytes) -> None:
    """The one place bytes reach the disk (tests patch it to simulate a full disk)."""
    f.write(data)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable: POSIX needs the directory entry itself flushed."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_failure(path: Path, err: OSError) -> str:
    if err.errno in _DISK_FULL:
        return (f"cannot write checkpoint {path}: the disk is full ({err.strerror or 'no space left'}); "
                f"the previous checkpoint there, if any, is unchanged")
    return f"cannot write checkpoint {path}: {err.strerror or err}"


# ---- nested state <-> (tensors, JSON) ------------------------------------------------------


def pack_state(obj: Any) -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested structure into ``(tensors, json_obj)``.

    ``obj`` may nest dicts (any str/int/float/bool/None/tuple keys), lists, tuples,
    ints, floats, strings, bools, None, tensors and numpy arrays. Tensor keys are the
    dotted path to the tensor, e.g. ``optim.G.state.3.exp_avg``. The tensors are the live
    ones (detached, not copied): save them before changing the state again.
    """
    tensors: dict[str, torch.Tensor] = {}
    return tensors, _encode(obj, "", tensors)


def unpack_state(tensors: Mapping[str, torch.Tensor], json_obj: Any) -> Any:
    """Rebuild what ``pack_state`` split, with int keys, tuples and arrays as they were."""
    return _decode(json_obj, tensors)


def _encode(obj: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, torch.Tensor):
        key = _new_key(path, tensors)
        tensors[key] = obj.detach()
        return {_TENSOR: key}
    if isinstance(obj, np.ndarray):
        return _encode_array(obj, path, tensors)
    if isinstance(obj, tuple):
        return {_TUPLE: [_encode(v, _join(path, i), tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, _join(path, i), tensors) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v, _join(path, k), tensors) for k, v in obj.items()}
        return {_DICT: [[_encode(k, path, tensors), _encode(v, _join(path, k), tensors)]
                        for k, v in obj.items()]}
    raise TypeError(f"cannot store a {type(obj).__name__} at {path or '<root>'!r} in a checkpoint")


def _encode_array(array: np.ndarray, path: str, tensors: dict[str, torch.Tensor]) -> dict:
    if array.dtype.hasobject:
        raise TypeError(f"cannot store an object array at {path or '<root>'!r} in a checkpoint")
    key = _new_key(path, tensors)
    raw_bytes = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    tensors[key] = torch.from_numpy(raw_bytes.copy())
    return {_NDARRAY: key, "dtype": array.dtype.str, "shape": list(array.shape)}


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if _TENSOR in obj:
        return _tensor(tensors, obj[_TENSOR])
    if _NDARRAY in obj:
        raw_bytes = _tensor(tensors, obj[_NDARRAY]).cpu().numpy()
        return raw_bytes.view(np.dtype(obj["dtype"])).reshape(obj["shape"]).copy()
    if _TUPLE in obj:
        return tuple(_decode(v, tensors) for v in obj[_TUPLE])
    if _DICT in obj:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in obj[_DICT]}
    return {k: _decode(v, tensors) for k, v in obj.items()}


def _tensor(tensors: Mapping[str, torch.Tensor], key: str) -> torch.Tensor:
    if key not in tensors:
        raise CheckpointError(f"the packed state refers to tensor {key!r}, which the checkpoint lacks")
    return tensors[key]


def _join(path: str, part: Any) -> str:
    return f"{path}.{part}" if path else str(part)


def _new_key(path: str, tensors: Mapping[str, torch.Tensor]) -> str:
    """``path``, or ``path~N`` when dotted paths collide (keys ``"a.b"`` and ``"a"/"b"``)."""
    key, n = path or "tensor", 1
    while key in tensors:
        key, n = f"{path or 'tensor'}~{n}", n + 1
    return key


# ---- random number generators --------------------------------------------------------------


def capture_rng_state() -> dict[str, Any]:
    """Every global generator a training step draws from: torch (CPU and CUDA), numpy's
    global one and python's ``random``. Pass through ``pack_state`` to save it."""
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": np.random.get_state(legacy=False),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Mapping[str, Any]) -> None:
    """Undo ``capture_rng_state``. CUDA generators are restored when as many devices as
    at capture time are visible (a CPU-only resume of a GPU run keeps its CPU streams)."""
    torch.set_rng_state(state["torch"].cpu())
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    cuda_states = state.get("cuda")
    if cuda_states is not None and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in cuda_states])
