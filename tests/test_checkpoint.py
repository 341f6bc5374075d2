"""Checkpoints: exact round-trips of training state, atomic writes, clear read errors."""

import errno
import random

import numpy as np
import pytest
import torch

from clvae import checkpoint
from clvae.checkpoint import (CheckpointError, capture_rng_state, load_checkpoint, pack_state,
                              restore_rng_state, save_checkpoint, unpack_state)


def _model_and_adam(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    return model, torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.999))


def _train(model, optim, steps: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 4, generator=gen)
        loss = model(x).pow(2).mean()
        optim.zero_grad()
        loss.backward()
        optim.step()


def _save_state(path, state, meta=None):
    tensors, packed = pack_state(state)
    save_checkpoint(path, tensors, {"state": packed, **(meta or {})})


def _load_state(path):
    tensors, meta = load_checkpoint(path)
    return unpack_state(tensors, meta["state"]), meta


def test_adam_state_round_trips_and_training_continues_bit_identically(tmp_path):
    model, optim = _model_and_adam()
    sched = torch.optim.lr_scheduler.StepLR(optim, step_size=2, gamma=0.5)
    _train(model, optim, steps=3, seed=1)
    sched.step()
    _save_state(tmp_path / "ck.safetensors",
                {"model": model.state_dict(), "optim": {"G": optim.state_dict()}, "sched": sched.state_dict()})

    restored, _ = _load_state(tmp_path / "ck.safetensors")
    assert set(restored["optim"]["G"]["state"]) == {0, 1, 2, 3}  # int keys stay ints
    assert restored["optim"]["G"]["param_groups"][0]["betas"] == (0.5, 0.999)
    assert restored["sched"] == sched.state_dict()

    model2, optim2 = _model_and_adam(seed=99)  # different init, all overwritten
    model2.load_state_dict(restored["model"])
    optim2.load_state_dict(restored["optim"]["G"])
    _train(model, optim, steps=4, seed=2)
    _train(model2, optim2, steps=4, seed=2)
    for p, p2 in zip(model.parameters(), model2.parameters()):
        assert torch.equal(p, p2)


def test_tensor_keys_are_dotted_paths(tmp_path):
    model, optim = _model_and_adam()
    _train(model, optim, steps=1, seed=1)
    tensors, _ = pack_state({"optim": {"G": optim.state_dict()}})
    assert "optim.G.state.3.exp_avg" in tensors
    assert torch.equal(tensors["optim.G.state.3.exp_avg"], optim.state_dict()["state"][3]["exp_avg"])


def test_nested_values_round_trip_exactly(tmp_path):
    state = {
        "tuple": (1, (2.5, "x"), None, True),
        "int_keys": {0: "a", 7: [1, 2]},
        "mixed_keys": {1: "one", "1": "string one", (2, 3): "tuple key"},
        "dollar": {"$tensor": "not a tag"},
        "floats": [0.1, 1e-300, -0.0, float("inf")],
        "big": 2**127 + 1,
        "empty": {"l": [], "t": (), "d": {}},
        "collide": {"a.b": torch.ones(1), "a": {"b": torch.zeros(1)}},
    }
    _save_state(tmp_path / "s.safetensors", state)
    restored, _ = _load_state(tmp_path / "s.safetensors")
    assert {k: v for k, v in restored.items() if k != "collide"} == {k: v for k, v in state.items() if k != "collide"}
    assert type(restored["tuple"][1]) is tuple
    assert torch.equal(restored["collide"]["a.b"], torch.ones(1))
    assert torch.equal(restored["collide"]["a"]["b"], torch.zeros(1))


def test_unsupported_values_are_refused_with_their_path():
    with pytest.raises(TypeError, match="a.1"):
        pack_state({"a": [0, object()]})


def test_rng_states_round_trip(tmp_path):
    torch.manual_seed(3)
    np.random.seed(4)
    random.seed(5)
    numpy_gen = np.random.default_rng(6)
    _save_state(tmp_path / "rng.safetensors", {"rng": capture_rng_state(), "gen": numpy_gen.bit_generator.state})
    expected = (torch.rand(5), np.random.rand(5), [random.random() for _ in range(5)], numpy_gen.random(5))

    torch.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    restored, _ = _load_state(tmp_path / "rng.safetensors")
    restore_rng_state(restored["rng"])
    numpy_gen2 = np.random.default_rng()
    numpy_gen2.bit_generator.state = restored["gen"]
    drawn = (torch.rand(5), np.random.rand(5), [random.random() for _ in range(5)], numpy_gen2.random(5))

    assert torch.equal(drawn[0], expected[0])
    assert np.array_equal(drawn[1], expected[1])
    assert drawn[2] == expected[2]
    assert np.array_equal(drawn[3], expected[3])


def test_numpy_arrays_keep_dtype_and_shape(tmp_path):
    arrays = {"u32": np.arange(6, dtype=np.uint32).reshape(2, 3) * 1_000_000_000,
              "f16": np.array([[1.5, -2.0]], dtype=np.float16), "scalar": np.array(7, dtype=np.int64)}
    _save_state(tmp_path / "np.safetensors", arrays)
    restored, _ = _load_state(tmp_path / "np.safetensors")
    for name, array in arrays.items():
        assert restored[name].dtype == array.dtype and restored[name].shape == array.shape
        assert np.array_equal(restored[name], array)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.int64, torch.int8, torch.uint8, torch.bool])
def test_tensor_dtypes_round_trip(tmp_path, dtype):
    tensor = (torch.arange(-6, 6).reshape(3, 4) * 3).to(dtype)
    save_checkpoint(tmp_path / "t.safetensors", {"t": tensor}, {"step": 1})
    tensors, meta = load_checkpoint(tmp_path / "t.safetensors")
    assert tensors["t"].dtype == dtype
    assert torch.equal(tensors["t"], tensor)
    assert meta == {"step": 1}


def test_tensors_sharing_storage_are_saved(tmp_path):
    base = torch.arange(10.0)
    save_checkpoint(tmp_path / "v.safetensors", {"a": base[:5], "b": base[5:], "c": base}, {})
    tensors, _ = load_checkpoint(tmp_path / "v.safetensors")
    assert torch.equal(tensors["b"], torch.arange(5.0, 10.0))
    assert torch.equal(tensors["c"], base)


def test_overwrite_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "ck.safetensors"
    save_checkpoint(target, {"w": torch.zeros(3)}, {"step": 1})
    save_checkpoint(target, {"w": torch.ones(3)}, {"step": 2})
    tensors, meta = load_checkpoint(target)
    assert meta["step"] == 2 and torch.equal(tensors["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]


def test_full_disk_midway_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "ck.safetensors"
    save_checkpoint(target, {"w": torch.zeros(1000)}, {"step": 1})
    old_bytes = target.read_bytes()

    def write_half_then_fail(f, data):
        f.write(data[: len(data) // 2])
        f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "_write_all", write_half_then_fail)
    with pytest.raises(CheckpointError, match="disk is full") as info:
        save_checkpoint(target, {"w": torch.ones(1000)}, {"step": 2})
    assert str(target) in str(info.value)
    assert target.read_bytes() == old_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]


def test_interrupt_midway_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "ck.safetensors"
    save_checkpoint(target, {"w": torch.zeros(10)}, {"step": 1})

    def interrupted(f, data):
        f.write(data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "_write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(target, {"w": torch.ones(10)}, {"step": 2})
    assert load_checkpoint(target)[1] == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ck.safetensors"]


def test_metadata_that_is_not_json_is_refused_before_writing(tmp_path):
    with pytest.raises(CheckpointError, match="not JSON"):
        save_checkpoint(tmp_path / "x.safetensors", {}, {"bad": object()})
    assert not list(tmp_path.iterdir())


def test_truncated_file_gives_a_clear_error(tmp_path):
    target = tmp_path / "ck.safetensors"
    save_checkpoint(target, {"w": torch.randn(100)}, {"step": 1})
    target.write_bytes(target.read_bytes()[:-50])
    with pytest.raises(CheckpointError, match="truncated, corrupt") as info:
        load_checkpoint(target)
    assert str(target) in str(info.value)


@pytest.mark.parametrize("content", [b"", b"\x00" * 3, b"garbage" * 20, b"PK\x03\x04 a zip, as torch.save writes"])
def test_garbage_file_gives_a_clear_error(tmp_path, content):
    target = tmp_path / "junk.safetensors"
    target.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a readable safetensors checkpoint") as info:
        load_checkpoint(target)
    assert str(target) in str(info.value)


def test_safetensors_file_without_clvae_metadata_is_refused(tmp_path):
    import safetensors.torch
    target = tmp_path / "plain.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(target))
    with pytest.raises(CheckpointError, match="not a clvae checkpoint") as info:
        load_checkpoint(target)
    assert str(target) in str(info.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist") as info:
        load_checkpoint(tmp_path / "nope.safetensors")
    assert "nope.safetensors" in str(info.value)


def test_packed_state_missing_a_tensor_is_an_error():
    tensors, packed = pack_state({"w": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="'w'"):
        unpack_state({}, packed)


def test_cuda_rng_states_are_skipped_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    state = capture_rng_state()
    assert "cuda" not in state
    expected = torch.rand(3)
    restore_rng_state(dict(state, cuda=[torch.zeros(16, dtype=torch.uint8)]))
    assert torch.equal(torch.rand(3), expected)


def test_missing_directories_are_created(tmp_path):
    target = tmp_path / "run" / "checkpoints" / "latest.safetensors"
    save_checkpoint(target, {"w": torch.ones(2)}, {"step": 5})
    assert load_checkpoint(target)[1] == {"step": 5}
