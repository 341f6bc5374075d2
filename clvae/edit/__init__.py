"""The synthesis and editing API (paper section 4.4) that the CLI, the daemon and the Krita
plugin use: numpy label maps and images in, ``Result``s out. See docs/editing.md.

- ``generate``: n images from prior codes (Eq. 11), seeded, batched, cancellable.
- ``reroll``: new codes for some classes and layers, optional pixel preservation (4.4.2).
- ``transfer`` / ``reconstruct``: styles from a reference image (4.4.1).
- ``edit``: move one class's codes at some layers (material editing, 4.4.3).
- presets: one class's style as a small file (``export_preset``, ``apply_preset``).
- ``render``: the image of a label map with codes the caller already has (live painting).
"""

from clvae.edit.errors import Cancelled, EditError
from clvae.edit.files import load_codes, model_identity, save_codes
from clvae.edit.groups import default_layer_groups, layer_groups, resolve_layers
from clvae.edit.ops import (
    DEFAULT_FEATHER, DEFAULT_MAX_BATCH, Result, apply_preset, edit, generate, reconstruct, reroll, transfer,
)
from clvae.edit.presets import Preset, PresetEntry, export_preset, list_presets, load_preset, preset_codes, save_preset
from clvae.edit.render import render

__all__ = [
    "Cancelled", "DEFAULT_FEATHER", "DEFAULT_MAX_BATCH", "EditError", "Preset", "PresetEntry", "Result",
    "apply_preset", "default_layer_groups", "edit", "export_preset", "generate", "layer_groups", "list_presets",
    "load_codes", "load_preset", "model_identity", "preset_codes", "reconstruct", "render", "reroll",
    "resolve_layers", "save_codes", "save_preset", "transfer",
]
