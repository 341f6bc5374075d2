"""The docker's actions as plans: each reads what it needs from Krita now, builds the request,
and says how to place the results when they come (``Plan.place``), so the request itself
runs asynchronously and the label layer is only ever read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from . import krita_io, pixels, placement, requests
from .palette import LabelMap, Palette, read_label_pixels
from .protocol import MAX_SIDE
from .requests import Image, Result
from .sidecar import Record, StoredArray


class ActionError(ValueError):
    """An action that cannot start; the message says why, for the docker to show."""


@dataclass
class Target:
    """The document, its label layer read as classes, and the model to use."""

    doc: object
    label_node: object
    label: LabelMap
    model: str
    palette: Palette

    @property
    def label_uid(self) -> str:
        return krita_io.uid_of(self.label_node)


@dataclass
class Plan:
    operation: str
    body: dict
    place: Callable[[list[Result]], list[str]]  # adds the result layers, returns their uids


def target(doc, label_uid: Optional[str], model_info: dict, transparent: Optional[int]) -> Target:
    """Read the label layer ``label_uid`` (None: the automatic choice) for the model."""
    node = label_node(doc, label_uid)
    return Target(doc, node, read_labels(doc, node, model_info, transparent), model_info["model"],
                  Palette.from_model_info(model_info))


def label_node(doc, label_uid: Optional[str]):
    """The label layer ``label_uid`` (None: the automatic choice) of an image clvae can draw."""
    if doc is None:
        raise ActionError("Open or create an image first.")
    if max(doc.width(), doc.height()) > MAX_SIDE:
        raise ActionError(f"The image is {doc.width()} x {doc.height()}; clvae draws up to {MAX_SIDE} pixels a side. "
                          "Scale it down (Image > Scale Image To New Size), generate, then scale the result up.")
    layers = [info for _, info in krita_io.document_layers(doc)]
    active = doc.activeNode()
    uid = label_uid or placement.pick_label_layer(layers, krita_io.uid_of(active) if active else None)
    node = krita_io.node_by_uid(doc, uid)
    if node is None:
        raise ActionError("No label layer: name a paint layer \"labels\" and paint the classes on it.")
    try:
        krita_io.require_rgba8(doc, node)
    except krita_io.LayerFormatError as error:
        raise ActionError(str(error)) from None
    return node


def read_labels(doc, node, model_info: dict, transparent: Optional[int]) -> LabelMap:
    try:
        return read_label_pixels(krita_io.read_pixels(doc, node), doc.width(), doc.height(),
                                 Palette.from_model_info(model_info), transparent)
    except ValueError as error:  # LabelError, LayerFormatError
        raise ActionError(f"Label layer \"{node.name()}\": {error}") from None


def plan_generate(t: Target, count: int, seed: Optional[int]) -> Plan:
    def place(results: list[Result]) -> list[str]:
        return _place(t, results, lambda r: placement.result_name("generate", r.seed),
                      lambda r: Record("generate", t.model, r.seed, r.codes, t.label_uid))

    return Plan("generate", requests.generate_body(t.label, count, seed, t.model), place)


def source_record(doc, source_uid: Optional[str]) -> Record:
    """The record of result layer ``source_uid``."""
    record = krita_io.load_records(doc).get(source_uid)
    if record is None:
        raise ActionError("Choose a result layer made by clvae (Generate makes some).")
    return record


def plan_change(t: Target, source_uid: str, class_id: int, layers: str, seed: Optional[int], keep_others: bool,
                feather: int, strength: Optional[float] = None) -> Plan:
    """Re-roll (``strength`` None) or nudge class ``class_id`` of a result layer. With
    ``keep_others`` only that class's pixels change, and only inside Krita's selection if
    there is one."""
    record = source_record(t.doc, source_uid)
    if class_id not in t.label.classes():
        raise ActionError(f"The label layer has no {t.palette.by_id[class_id].name} to change.")
    source = krita_io.node_by_uid(t.doc, source_uid)
    original = krita_io.read_pixels(t.doc, source)
    keep = _keep_mask(t, class_id, keep_others, strength is not None)
    name = t.palette.by_id[class_id].name
    if strength is None:
        preserve = Image(pixels.bgra_to_rgb(original), t.label.width, t.label.height) if keep_others else None
        body = requests.reroll_body(t.label, record.codes, [class_id], layers, seed, preserve, feather, t.model)
        operation = "reroll"
    else:
        body = requests.edit_body(t.label, record.codes, class_id, layers, strength, seed, t.model)
        operation = "edit"

    def place(results: list[Result]) -> list[str]:
        return _place(t, results, lambda r: placement.result_name(operation, r.seed, name, strength),
                      lambda r: Record(operation, t.model, r.seed, r.codes, t.label_uid, source_uid, [class_id]),
                      original, keep)

    return Plan(operation, body, place)


def _keep_mask(t: Target, class_id: int, keep_others: bool, nudge: bool) -> Optional[bytes]:
    """Where new pixels may go (None: everywhere). A re-roll's preservation outside the
    class is the daemon's (feathered); a nudge's is done here; both honour the selection."""
    if not keep_others:
        return None
    selection = krita_io.read_selection(t.doc)
    masks = [pixels.selection_mask(selection)] if selection is not None else []
    if nudge:
        masks.append(pixels.class_mask(t.label.ids, [class_id]))
    if not masks:
        return None
    mask = masks[0] if len(masks) == 1 else pixels.mask_and(*masks)
    if pixels.is_empty(mask):
        raise ActionError("The selection holds none of that class: nothing would change.")
    return mask


@dataclass
class Reference:
    """A reference picture with its label map, and the classes to take from it."""

    name: str
    image: Image
    label: LabelMap
    classes: list[int]  # chosen and shared with the label map; empty: every shared class
    shared: list[int]


def read_reference(label: LabelMap, ref_doc, ref_image_uid: Optional[str], ref_label_uid: Optional[str],
                   classes: Sequence[int], model_info: dict, transparent: Optional[int]) -> Reference:
    """A reference image (a layer of any open document, with its label layer) for ``label``;
    None picks the reference's label layer, or its top other layer as the picture."""
    layers = [info for _, info in krita_io.document_layers(ref_doc)]
    ref_label_uid = ref_label_uid or placement.pick_label_layer(layers, None)
    image_node = krita_io.node_by_uid(ref_doc, ref_image_uid or placement.pick_reference_image(layers, ref_label_uid))
    ref_label_node = krita_io.node_by_uid(ref_doc, ref_label_uid)
    if image_node is None or ref_label_node is None:
        raise ActionError("Choose the reference's image layer and its label layer (a layer named \"labels\" is "
                          "found by itself).")
    ref_label = read_labels(ref_doc, ref_label_node, model_info, transparent)
    shared = sorted(set(ref_label.classes()) & set(label.classes()))
    if not shared:
        raise ActionError("The reference's label layer shares no class with this image's.")
    chosen = [class_id for class_id in classes if class_id in shared]
    if classes and not chosen:
        raise ActionError("None of the chosen classes is in both label layers.")
    try:
        ref_image = Image(pixels.bgra_to_rgb(krita_io.read_pixels(ref_doc, image_node)), ref_doc.width(),
                          ref_doc.height())
    except krita_io.LayerFormatError as error:
        raise ActionError(str(error)) from None
    return Reference(f"{ref_doc.name() or 'untitled'}: {image_node.name()}", ref_image, ref_label, chosen, shared)


def plan_transfer(t: Target, ref: Reference, seed: Optional[int], take_global: bool) -> Plan:
    """The styles of a reference image for the chosen (or all shared) classes."""
    body = requests.transfer_body(t.label, ref.image, ref.label, ref.classes, seed, take_global, t.model)

    def place(results: list[Result]) -> list[str]:
        return _place(t, results, lambda r: placement.result_name("transfer", r.seed, reference=ref.name),
                      lambda r: Record("transfer", t.model, r.seed, r.codes, t.label_uid, classes=ref.classes))

    return Plan("transfer", body, place)


def plan_keep(t: Target, codes: dict[str, StoredArray], seed: Optional[int]) -> Plan:
    """Live mode's picture as a result layer: the label layer at full size with the live codes."""
    def place(results: list[Result]) -> list[str]:
        return _place(t, results, lambda r: placement.result_name("live", seed),
                      lambda r: Record("live", t.model, seed, r.codes, t.label_uid))

    return Plan("render", requests.render_body(t.label, codes, t.model), place)


def _place(t: Target, results: list[Result], name_of: Callable[[Result], str], record_of: Callable[[Result], Record],
           original: Optional[bytes] = None, keep: Optional[bytes] = None) -> list[str]:
    """Add one layer per result on top of the result group, record how each was made."""
    layers = [info for _, info in krita_io.document_layers(t.doc)]
    group = krita_io.result_group(t.doc, t.label_node, placement.result_group(layers, t.label_uid))
    records = krita_io.load_records(t.doc)
    taken = [child.name() for child in group.childNodes()]
    added = []
    for result in results:
        if (result.image.width, result.image.height) != (t.label.width, t.label.height):
            raise ActionError(f"The daemon sent a {result.image.width} x {result.image.height} image for a "
                              f"{t.label.width} x {t.label.height} canvas.")
        bgra = pixels.rgb_to_bgra(result.image.rgb)
        if keep is not None:
            bgra = pixels.splice(bgra, original, keep)
        name = placement.unique_name(name_of(result), taken)
        node = krita_io.add_result_layer(t.doc, group, name, bgra)
        taken.append(name)
        uid = krita_io.uid_of(node)
        records[uid] = record_of(result)
        added.append(uid)
    krita_io.save_records(t.doc, records)
    return added
