"""What every data set yields, so training and evaluation need no per-loader code.

A data set is a ``torch.utils.data.Dataset`` with a ``classes`` attribute
(``list[ClassInfo]``, index = class id) whose items are dicts:

    "image": float32 tensor (3, H, W) in [-1, 1]
    "label": int64 tensor (H, W), values in 0 .. len(classes) - 1

Procedural scenes also offer ``dataset.factors(index)``: the plain-data style factors
that made item ``index`` (kept out of the item so the default collate works).
"""

from __future__ import annotations

from typing import Protocol

import torch

from clvae.config import ClassInfo


class LabelledImages(Protocol):
    classes: list[ClassInfo]

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]: ...
