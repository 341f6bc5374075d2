"""A model's class palette as a Krita palette file (.kpl), so label layers can be painted
with Krita's own Palette docker and colour tools.

A .kpl is a zip: ``mimetype`` (stored first, uncompressed), ``colorset.xml`` (a ColorSet of
ColorSetEntry swatches, each an 8-bit sRGB colour, its name and grid position) and
``profiles.xml`` (no embedded profiles: Krita's built-in sRGB is named).

Run as ``python3 -m clvae_krita.kpl INFO.json NAME FOLDER`` (with ``plugin/`` on PYTHONPATH)
to write the palette of ``clvae info --json`` output for the model served as NAME into
FOLDER; the installer does so.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Optional, Sequence
from xml.etree import ElementTree

from .palette import Palette

MIMETYPE = b"krita/x-colorset"
SRGB_PROFILE = "sRGB-elle-V2-srgbtrc.icc"  # Krita's default 8-bit sRGB profile
COLUMNS = 8


def palette_name(model: str) -> str:
    return f"clvae {model}"


def file_name(model: str) -> str:
    """A safe .kpl file name for ``model``'s palette."""
    return "clvae-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model") + ".kpl"


def model_kpl(model: str, palette: Palette) -> bytes:
    """The .kpl of the model served as ``model``."""
    return kpl_bytes(palette, palette_name(model), f"Classes of the clvae model {model}")


def kpl_bytes(palette: Palette, name: str, comment: str = "") -> bytes:
    """The .kpl file of ``palette``: one swatch per class, named after it, in id order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # entries without a date: the same palette, the same bytes
        archive.writestr(zipfile.ZipInfo("mimetype"), MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr(zipfile.ZipInfo("colorset.xml"), _colorset_xml(palette, name, comment),
                         compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(zipfile.ZipInfo("profiles.xml"), b"<Profiles/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _colorset_xml(palette: Palette, name: str, comment: str) -> bytes:
    rows = -(-len(palette) // COLUMNS)
    root = ElementTree.Element("ColorSet", {"version": "2.0", "name": name, "comment": comment,
                                            "columns": str(COLUMNS), "rows": str(rows), "readonly": "false"})
    for index, entry in enumerate(palette.classes):
        swatch = ElementTree.SubElement(root, "ColorSetEntry", {"name": entry.name, "id": f"class-{entry.id}",
                                                                "spot": "false", "bitdepth": "U8"})
        red, green, blue = (repr(value / 255) for value in entry.rgb)
        ElementTree.SubElement(swatch, "RGB", {"space": SRGB_PROFILE, "r": red, "g": green, "b": blue})
        ElementTree.SubElement(swatch, "Position", {"row": str(index // COLUMNS), "column": str(index % COLUMNS)})
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3:
        print("usage: python3 -m clvae_krita.kpl INFO.json NAME FOLDER  (INFO.json from `clvae info --json`)",
              file=sys.stderr)
        return 2
    info, model, folder = json.loads(Path(args[0]).read_text()), args[1], Path(args[2])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(model)
    path.write_bytes(model_kpl(model, Palette.from_model_info(info)))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
