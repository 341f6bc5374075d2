"""Everything that touches Krita's document API: reading layers and the selection, adding
result layers, Live mode's label reads and preview layer, the records annotation, the
foreground colour, palette files.

Layers are read and written over the whole canvas (0, 0, width, height), so every result is
exactly the canvas size and aligned with the label layer, wherever the layers' content lies.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from krita import Krita, ManagedColor
from PyQt5.QtCore import QByteArray, Qt
from PyQt5.QtGui import QColor, QImage

from . import live, pixels, placement, sidecar
from .placement import GROUP_LAYER, GROUP_NAME, PREVIEW_NAME, LayerInfo
from .requests import Image

RGBA, U8 = "RGBA", "U8"
PALETTE_FOLDER = "palettes"


class LayerFormatError(ValueError):
    """A layer whose pixels the plugin cannot read."""


def active_document():
    return Krita.instance().activeDocument()


def document_layers(doc) -> list[tuple[object, LayerInfo]]:
    """Every node of ``doc`` top-down (a group before its children), with its description."""
    found: list[tuple[object, LayerInfo]] = []

    def visit(node, parent_uid: Optional[str]) -> None:
        for child in reversed(node.childNodes()):  # Krita lists children bottom-up
            found.append((child, LayerInfo(uid_of(child), child.name(), child.type(), parent_uid)))
            visit(child, uid_of(child))

    visit(doc.rootNode(), None)
    return found


def uid_of(node) -> str:
    return node.uniqueId().toString()


def node_by_uid(doc, uid: Optional[str]):
    return next((node for node, info in document_layers(doc) if info.uid == uid), None)


def require_rgba8(doc, node) -> None:
    """Raise ``LayerFormatError`` unless ``node`` (and so its bytes) are 8-bit RGBA."""
    if (node.colorModel(), node.colorDepth()) != (RGBA, U8):
        raise LayerFormatError(
            f"The layer \"{node.name()}\" is {node.colorModel()} {node.colorDepth()}; clvae reads and writes 8-bit "
            "RGB/Alpha only. Convert the image with Image > Convert Image Color Space (RGB/Alpha, 8-bit integer).")
    if (doc.colorModel(), doc.colorDepth()) != (RGBA, U8):
        raise LayerFormatError(
            f"The image is {doc.colorModel()} {doc.colorDepth()}; clvae adds 8-bit RGB/Alpha layers only. Convert "
            "it with Image > Convert Image Color Space (RGB/Alpha, 8-bit integer).")


def read_pixels(doc, node) -> bytes:
    """The canvas-sized BGRA bytes of an 8-bit RGBA layer."""
    require_rgba8(doc, node)
    return bytes(node.pixelData(0, 0, doc.width(), doc.height()))


def read_selection(doc) -> Optional[bytes]:
    """The canvas-sized selection (one byte per pixel), or None without one."""
    selection = doc.selection()
    if selection is None or selection.width() == 0 or selection.height() == 0:
        return None
    return bytes(selection.pixelData(0, 0, doc.width(), doc.height()))


def result_group(doc, label_node, group_uid: Optional[str]):
    """The result group (``group_uid``), or a new one right above the label layer."""
    group = node_by_uid(doc, group_uid)
    if group is not None:
        return group
    group = doc.createNode(GROUP_NAME, GROUP_LAYER)
    label_node.parentNode().addChildNode(group, label_node)
    return group


def add_result_layer(doc, group, name: str, bgra: bytes):
    """A new paint layer on top of ``group``, filled with ``bgra``."""
    node = doc.createNode(name, "paintlayer")
    group.addChildNode(node, None)
    node.setPixelData(QByteArray(bgra), 0, 0, doc.width(), doc.height())
    doc.refreshProjection()
    return node


def check_labels(watcher: live.LabelWatcher, doc, node) -> None:
    """Read the next band of the label layer (the only part of a change check on the UI
    thread) and hand it to ``watcher``."""
    width, height = doc.width(), doc.height()
    top, rows = watcher.next_band(width, height)
    read_at = time.perf_counter()
    watcher.check(live.Pixels(node.pixelData(0, top, width, rows), width, height, top, read_at))


def canvas_bgra(image: Image, width: int, height: int) -> bytes:
    """Opaque BGRA pixels of an RGB image, scaled smoothly to ``width`` x ``height`` if it has
    another size (Qt's ARGB32 is BGRA in memory on little-endian machines)."""
    if (image.width, image.height) == (width, height):
        return pixels.rgb_to_bgra(image.rgb)
    rgb = QImage(image.rgb, image.width, image.height, 3 * image.width, QImage.Format_RGB888)
    scaled = rgb.scaled(width, height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    bgra = scaled.convertToFormat(QImage.Format_ARGB32)
    return bgra.constBits().asstring(bgra.sizeInBytes())


def show_preview(doc, label_node, bgra: bytes) -> None:
    """Put ``bgra`` into the live preview beside ``label_node``, made above the result group
    (or the label layer) if there is none yet."""
    layers = [info for _, info in document_layers(doc)]
    label_uid = uid_of(label_node)
    node = node_by_uid(doc, placement.preview_layer(layers, label_uid))
    if node is None:
        node = doc.createNode(PREVIEW_NAME, "paintlayer")
        label_node.parentNode().addChildNode(node, node_by_uid(doc, placement.preview_anchor(layers, label_uid)))
    node.setPixelData(QByteArray(bgra), 0, 0, doc.width(), doc.height())
    doc.refreshProjection()


def remove_preview(doc, label_node) -> None:
    """Take the live preview beside ``label_node`` out of the document, if there is one."""
    layers = [info for _, info in document_layers(doc)]
    node = node_by_uid(doc, placement.preview_layer(layers, uid_of(label_node)))
    if node is not None:
        node.remove()
        doc.refreshProjection()


def load_records(doc) -> dict[str, sidecar.Record]:
    if sidecar.ANNOTATION not in doc.annotationTypes():
        return {}
    return sidecar.decode(bytes(doc.annotation(sidecar.ANNOTATION)))


def save_records(doc, records: dict[str, sidecar.Record]) -> None:
    """Store ``records`` in the document, minus those of layers that are gone."""
    live = sidecar.prune(records, (info.uid for _, info in document_layers(doc)))
    doc.setAnnotation(sidecar.ANNOTATION, sidecar.DESCRIPTION, QByteArray(sidecar.encode(live)))


def set_foreground(rgb: tuple[int, int, int]) -> bool:
    """Make ``rgb`` the foreground colour of the active view; False without a view."""
    window = Krita.instance().activeWindow()
    view = window.activeView() if window is not None else None
    if view is None:
        return False
    view.setForeGroundColor(ManagedColor.fromQColor(QColor(*rgb), view.canvas()))
    return True


def palette_path(file_name: str) -> Path:
    return Path(Krita.instance().getAppDataLocation()) / PALETTE_FOLDER / file_name


def install_palette(file_name: str, data: bytes) -> tuple[Path, bool]:
    """Write a .kpl into Krita's palette folder; (its path, whether it is new or changed).
    Krita lists new palette files at its next start."""
    path = palette_path(file_name)
    if path.is_file() and path.read_bytes() == data:
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, True


def palette_loaded(name: str) -> bool:
    return name in Krita.instance().resources("palette")
