"""The class palette as a Krita .kpl: a zip with the mimetype first, one swatch per class."""

from __future__ import annotations

import io
import json
import zipfile
from xml.etree import ElementTree

from clvae_krita import kpl
from tests.plugin.helpers import PALETTE


def test_kpl_is_a_zip_with_mimetype_first_and_stored():
    with zipfile.ZipFile(io.BytesIO(kpl.kpl_bytes(PALETTE, "clvae test"))) as archive:
        first = archive.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert archive.read("mimetype") == kpl.MIMETYPE
        assert set(archive.namelist()) == {"mimetype", "colorset.xml", "profiles.xml"}
        root = ElementTree.fromstring(archive.read("colorset.xml"))
    assert root.tag == "ColorSet" and root.get("name") == "clvae test"
    swatches = root.findall("ColorSetEntry")
    assert [s.get("name") for s in swatches] == [c.name for c in PALETTE.classes]
    for swatch, entry in zip(swatches, PALETTE.classes):
        rgb = swatch.find("RGB")
        assert tuple(round(float(rgb.get(k)) * 255) for k in "rgb") == entry.rgb
        assert swatch.get("bitdepth") == "U8" and rgb.get("space") == kpl.SRGB_PROFILE
    columns = int(root.get("columns"))
    positions = [(int(s.find("Position").get("row")), int(s.find("Position").get("column"))) for s in swatches]
    assert positions == [(i // columns, i % columns) for i in range(len(swatches))]


def test_same_palette_same_bytes():
    assert kpl.kpl_bytes(PALETTE, "a") == kpl.kpl_bytes(PALETTE, "a")


def test_file_names_are_safe():
    assert kpl.file_name("ade20k/v2 best") == "clvae-ade20k_v2_best.kpl"
    assert kpl.file_name("..") == "clvae-model.kpl"


def test_command_writes_the_palette_of_clvae_info(tmp_path):
    info = {"model": "/models/scenes.safetensors",
            "classes": [{"id": c.id, "name": c.name, "color": list(c.rgb)} for c in PALETTE.classes]}
    (tmp_path / "info.json").write_text(json.dumps(info))
    assert kpl.main([str(tmp_path / "info.json"), "scenes", str(tmp_path / "palettes")]) == 0
    written = tmp_path / "palettes" / "clvae-scenes.kpl"
    assert written.read_bytes() == kpl.model_kpl("scenes", PALETTE)
    assert kpl.main([]) == 2
