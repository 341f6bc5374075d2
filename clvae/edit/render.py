"""Rendering fixed codes: the image of a label map with codes the caller already has.

Live painting renders every change of the label map with the same codes (z_1 and every
class's codes), so a stroke changes the picture where the labels changed and the rest
keeps its style. Nothing is drawn at random, so the same label and codes always give the
same pixels.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from clvae.edit.checks import check_codes
from clvae.edit.ops import Result, prepare_label, render_result
from clvae.model.codes import Codes


def render(model: nn.Module, label: np.ndarray, codes: Codes) -> Result:
    """G(M, Z) of ``label`` with ``codes`` (made for any label map of this model), returned
    with the codes marked as made for ``label``; its seed is None."""
    label, model_label = prepare_label(model, label)
    check_codes(codes, model.cfg)
    return render_result(model, label, model_label, codes, None)
