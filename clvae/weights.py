"""Pretrained weight files (VGG19 for the loss; AlexNet, LPIPS, Inception for evaluation):
where to find them, how to read them safely, and how to check them against a module.

No weights are downloaded. A ``WeightsFile`` looks in an explicit path, else in its
environment variable, else in the torch hub cache under the names the official packages
download to; when none exists, ``MissingWeightsError`` names every place it looked. Files
are read with ``torch.load(weights_only=True)`` or as safetensors (told apart by their
content), so a weights file can never run code.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

import safetensors.torch
import torch
from torch import nn

MAX_PROBLEMS_SHOWN = 5


class MissingWeightsError(FileNotFoundError):
    """No weights file was found; the message lists where we looked and how to provide one."""


class BadWeightsError(ValueError):
    """A weights file exists but cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class WeightsFile:
    """One pretrained weights file a network needs."""

    what: str  # e.g. "LPIPS v0.1 AlexNet linear layers"
    env_var: str
    cache_names: tuple[str, ...]  # file names under <torch hub dir>/checkpoints
    origin: str  # where the official file comes from, for the error message
    hint: str = ""  # a last sentence for the missing-file message (e.g. how to do without)

    def candidates(self, path: Optional[str | os.PathLike] = None) -> list[Path]:
        """Where to look, in order: ``path`` alone if given, else $env_var, then the hub cache."""
        if path is not None:
            return [Path(path)]
        from_env = [Path(os.environ[self.env_var])] if os.environ.get(self.env_var) else []
        return from_env + [hub_checkpoints() / name for name in self.cache_names]

    def find(self, path: Optional[str | os.PathLike] = None) -> Path:
        candidates = self.candidates(path)
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise MissingWeightsError(self.missing_message(candidates))
        return found

    def missing_message(self, candidates: list[Path]) -> str:
        looked = "\n".join(f"  {p}" for p in candidates)
        return (f"{self.what} not found. Looked in:\n{looked}\n"
                f"Get the file from {self.origin} (or a .safetensors copy with the same keys), then set "
                f"${self.env_var} to its path or copy it to {hub_checkpoints() / self.cache_names[0]}. {self.hint}").rstrip()

    def load_into(self, module: nn.Module, path: Optional[str | os.PathLike] = None,
                  ignored: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> Path:
        """Find the file, check it against ``module`` and load it; returns the file's path.

        Keys starting with an ``ignored`` prefix are skipped (e.g. a classifier); keys ending
        with an ``optional`` suffix may be absent from the file (e.g. BatchNorm counters).
        """
        found = self.find(path)
        state = read_state_dict(found, self.what)
        module.load_state_dict(matching_state(module, state, found, self.what, ignored, optional), strict=False)
        return found


def require_files(wanted: list[tuple[WeightsFile, Optional[str | os.PathLike]]]) -> None:
    """Raise one ``MissingWeightsError`` naming every missing file of ``wanted`` (file, path)."""
    missing = [weights.missing_message(weights.candidates(path)) for weights, path in wanted
               if not any(p.is_file() for p in weights.candidates(path))]
    if missing:
        raise MissingWeightsError("\n".join(missing))


def hub_checkpoints() -> Path:
    """Where torch hub (torchvision, pytorch-fid) keeps downloaded weights."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def read_state_dict(path: Path, what: str) -> Mapping[str, torch.Tensor]:
    """A .pth state dict (read with weights_only=True) or a .safetensors file's tensors."""
    try:
        if is_safetensors(path):
            return safetensors.torch.load_file(str(path), device="cpu")
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise BadWeightsError(f"{what} file {path} holds Python objects other than tensors; such files are "
                              f"refused because loading them could run code (torch.load weights_only=True)") from err
    except Exception as err:
        reason = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0]}"
        raise BadWeightsError(f"{what} file {path} is neither a torch state dict nor a .safetensors file "
                              f"(or it is corrupt): {reason}") from err
    if not isinstance(state, Mapping):
        raise BadWeightsError(f"{what} file {path} holds a {type(state).__name__}, not a state dict")
    return state


def is_safetensors(path: Path) -> bool:
    """Safetensors files start with an 8-byte header length, then the JSON header's '{'."""
    with open(path, "rb") as f:
        return f.read(9)[8:] == b"{"


def matching_state(module: nn.Module, state: Mapping[str, torch.Tensor], path: Path, what: str,
                   ignored: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    """``state``'s entries for ``module`` (as float32 where floating), after checking that every
    key and shape matches; raises ``BadWeightsError`` listing the problems."""
    expected = module.state_dict()
    wanted = {k: v for k, v in state.items() if not k.startswith(ignored)}
    problems = [f"missing {k}" for k in expected if k not in wanted and not k.endswith(optional)]
    problems += [f"unexpected key {k}" for k in wanted if k not in expected]
    problems += [shape_problem(k, wanted[k], v) for k, v in expected.items()
                 if k in wanted and not (isinstance(wanted[k], torch.Tensor) and wanted[k].shape == v.shape)]
    if problems:
        shown = "\n  ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise BadWeightsError(f"{what} file {path} does not match the network ({len(problems)} problems):"
                              f"\n  {shown}{more}")
    return {k: v.to(expected[k].dtype) for k, v in wanted.items()}


def shape_problem(key: str, value: object, reference: torch.Tensor) -> str:
    found = f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"
    return f"{key}: {found}, expected shape {tuple(reference.shape)}"


class FrozenNetwork(nn.Module):
    """A measuring network: always in eval mode, no parameter needs a gradient."""

    def freeze(self) -> None:
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FrozenNetwork":
        return super().train(False)
