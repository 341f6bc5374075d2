"""The "Semantic Synthesis" docker: daemon state, model and label layer, the class palette as
swatches, Live mode, and the Generate / Re-roll / Style tabs. Widgets only: what an action
reads and builds is in ``actions``, the daemon link in ``connection``, Live mode's logic in
``live``. Requests never block: a timer polls the connection, a progress bar and a Cancel
button show the job in flight. While Live is on, a faster timer reads the label layer and
hands its pixels to ``live``'s watcher; the picture goes to one preview layer.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Callable, Optional

from krita import DockWidget, Krita
from PyQt5.QtCore import QProcess, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QIcon, QIntValidator, QPixmap
from PyQt5.QtWidgets import (
    QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QProgressBar, QPushButton, QRadioButton, QScrollArea, QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget,
)

from . import actions, connection, kpl, krita_io, live, pixels, placement, requests
from .palette import Palette
from .protocol import DEFAULT_ENDPOINT, MAX_COUNT, read_key_file

TITLE = "Semantic Synthesis"
SETTINGS = "clvae"
POLL_MS = 50
REFRESH_MS = 1000
MAX_VARIANTS = 16
SWATCH_SIZE = 16
LAYER_LABELS = {"all": "All layers", "coarse": "Coarse (colour, overall look)", "fine": "Fine (texture, detail)"}
LIVE_TICK_MS = 10  # while Live is on: replies and finished checks are picked up this often
LIVE_CHECK_S = 0.04  # a band of the label layer is read at most this often
LIVE_ALIVE_S = 1.0  # whether its document and layer still exist is looked at this often


def setting(name: str, default: str = "") -> str:
    return Krita.instance().readSetting(SETTINGS, name, default)


def save_setting(name: str, value: str) -> None:
    Krita.instance().writeSetting(SETTINGS, name, value)


def doc_key(doc) -> str:
    return krita_io.uid_of(doc.rootNode())


def seed_of(field: QLineEdit) -> Optional[int]:
    return int(field.text()) if field.text().strip() else None


def seed_field() -> QLineEdit:
    field = QLineEdit()
    field.setPlaceholderText("random")
    field.setValidator(QIntValidator(0, 2**31 - 1))
    field.setToolTip("Leave empty for a new random seed each time; a seed repeats a result exactly.")
    return field


def fill_combo(combo: QComboBox, entries: list[tuple[str, object]]) -> None:
    """Replace ``combo``'s entries (text, data), keeping the chosen data where it remains."""
    chosen = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, data in entries:
        combo.addItem(text, data)
    index = combo.findData(chosen)
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)


@dataclass
class LiveLink:
    """What Live mode works on: one label layer of one document."""

    doc: object
    label_node: object
    watcher: live.LabelWatcher
    session: live.LiveSession
    checked_at: float = 0.0
    alive_at: float = 0.0
    failure: object = None  # the failure last shown


class SemanticDocker(DockWidget):
    jobFinished = pyqtSignal(str, list, float)  # operation, new layer uids, seconds from click to layers
    jobFailed = pyqtSignal(str, str)  # operation, message
    livePreviewShown = pyqtSignal(float, float)  # when its label pixels were read (perf_counter), round trip s

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle(TITLE)
        self.request_id: Optional[str] = None
        self.signature: object = None
        self.live: Optional[LiveLink] = None
        root = QWidget()
        layout = QVBoxLayout(root)
        layout.addWidget(self._daemon_box())
        layout.addWidget(self._labels_box())
        layout.addWidget(self._live_box())
        self.tabs = self._tabs()
        layout.addWidget(self.tabs)
        layout.addLayout(self._progress_row())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.message)
        layout.addStretch(1)
        scroll = QScrollArea()  # a short screen scrolls the docker instead of squashing it
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(root)
        self.setWidget(scroll)
        self._connect(self.address.text())
        self._timer(POLL_MS, self._poll)
        self._timer(REFRESH_MS, self.refresh_lists)
        self.live_timer = self._timer(LIVE_TICK_MS, self._live_tick, start=False)
        Krita.instance().notifier().imageClosed.connect(lambda name: QTimer.singleShot(0, self._stop_live_if_gone))

    def canvasChanged(self, canvas) -> None:
        self.refresh_lists()

    def _timer(self, interval: int, slot: Callable[[], None], start: bool = True) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(interval)
        timer.timeout.connect(slot)
        if start:
            timer.start()
        return timer

    def _connect(self, endpoint: str) -> None:
        """A new connection to ``endpoint``, signed with the key file of the settings if any."""
        path, key = setting("key_file"), None
        try:
            key = read_key_file(path) if path else None
        except (OSError, ValueError) as error:
            self._show_error(f"The key file {path} (clvae/key_file in kritarc) cannot be used: {error}")
        self.connection = connection.Connection(endpoint, key)
        self.connection.connect()
        self._show_state()

    # ---- widgets --------------------------------------------------------------------------

    def _daemon_box(self) -> QGroupBox:
        box = QGroupBox("Daemon")
        form = QFormLayout(box)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        form.addRow(self.state_label)
        self.address = QLineEdit(setting("endpoint", DEFAULT_ENDPOINT))
        self.address.setToolTip("Where clvae-daemon listens, e.g. tcp://127.0.0.1:5577")
        reconnect = QPushButton("Reconnect")
        reconnect.clicked.connect(self.reconnect)
        row = QHBoxLayout()
        row.addWidget(self.address, 1)
        row.addWidget(reconnect)
        self.start_button = QPushButton("Start daemon")
        self.start_button.setToolTip(setting("daemon_command"))
        self.start_button.clicked.connect(self.start_daemon)
        row.addWidget(self.start_button)
        form.addRow("Address", row)
        self.model_combo = QComboBox()
        self.model_combo.currentIndexChanged.connect(self._model_changed)
        form.addRow("Model", self.model_combo)
        return box

    def _labels_box(self) -> QGroupBox:
        box = QGroupBox("Labels")
        form = QFormLayout(box)
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("The layer whose colours say which class is where. Automatic: a layer named "
                                    "\"labels\", else the active layer. clvae never changes it.")
        form.addRow("Label layer", self.label_combo)
        self.transparent_combo = QComboBox()
        self.transparent_combo.setToolTip("What unpainted (transparent) pixels of the label layer are.")
        self.transparent_combo.currentIndexChanged.connect(self._transparent_changed)
        form.addRow("Transparent", self.transparent_combo)
        self.swatches = QListWidget()
        self.swatches.setToolTip("Click a class to paint with its colour.")
        self.swatches.itemClicked.connect(self._swatch_clicked)
        self.swatches.setMaximumHeight(160)
        form.addRow(self.swatches)
        return box

    def _live_box(self) -> QGroupBox:
        box = QGroupBox("Live")
        layout = QVBoxLayout(box)
        self.live_toggle = QCheckBox("Live: the picture follows the label layer")
        self.live_toggle.setToolTip("While on, every change of the label layer updates the \"clvae live\" layer with "
                                    "the same codes. Re-roll and Style act on its codes.")
        self.live_toggle.toggled.connect(self._live_toggled)
        self.live_state = QLabel("Off")
        self.shuffle_button = QPushButton("Shuffle")
        self.shuffle_button.setToolTip("New codes for everything: a new look for the live picture.")
        self.shuffle_button.clicked.connect(self.shuffle_live)
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("The live picture at full size as a result layer, its codes remembered.")
        self.keep_button.clicked.connect(self.keep_live)
        row = QHBoxLayout()
        row.addWidget(self.live_state, 1)
        row.addWidget(self.shuffle_button)
        row.addWidget(self.keep_button)
        layout.addWidget(self.live_toggle)
        layout.addLayout(row)
        return box

    def _tabs(self) -> QTabWidget:
        tabs = QTabWidget()
        tabs.addTab(self._generate_tab(), "Generate")
        tabs.addTab(self._change_tab(), "Re-roll")
        tabs.addTab(self._style_tab(), "Style")
        return tabs

    def _generate_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.count = QSpinBox()
        self.count.setRange(1, min(MAX_VARIANTS, MAX_COUNT))
        self.count.setValue(int(setting("count", "4")))
        form.addRow("Variants", self.count)
        self.generate_seed = seed_field()
        form.addRow("Seed", self.generate_seed)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setToolTip("New images of the label layer, each a new layer in the \"clvae\" group.")
        self.generate_button.clicked.connect(self.generate)
        form.addRow(self.generate_button)
        return tab

    def _change_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.result_combo = QComboBox()
        self.result_combo.setToolTip("The result layer to change; the new version goes on top of the 'clvae' group.")
        form.addRow("Result", self.result_combo)
        self.class_combo = QComboBox()
        from_selection = QPushButton("From selection")
        from_selection.setToolTip("The class most of the selected pixels have.")
        from_selection.clicked.connect(self.class_from_selection)
        row = QHBoxLayout()
        row.addWidget(self.class_combo, 1)
        row.addWidget(from_selection)
        form.addRow("Class", row)
        self.layers_combo = QComboBox()
        for choice in requests.LAYER_CHOICES:
            self.layers_combo.addItem(LAYER_LABELS[choice], choice)
        form.addRow("Layers", self.layers_combo)
        self.reroll_mode = QRadioButton("Re-roll: a new look")
        self.reroll_mode.setChecked(True)
        self.nudge_mode = QRadioButton("Nudge by")
        self.strength = QSlider(Qt.Horizontal)
        self.strength.setRange(1, 100)
        self.strength.setValue(50)
        self.strength.setToolTip("How far the class moves towards a new random look (100%: all the way).")
        nudge_row = QHBoxLayout()
        nudge_row.addWidget(self.nudge_mode)
        nudge_row.addWidget(self.strength, 1)
        form.addRow(self.reroll_mode)
        form.addRow(nudge_row)
        self.keep_others = QCheckBox("Keep other pixels; with a selection, change only inside it")
        self.keep_others.setChecked(True)
        self.feather = QSpinBox()
        self.feather.setRange(0, 64)
        self.feather.setValue(requests.DEFAULT_FEATHER)
        self.feather.setSuffix(" px")
        self.feather.setToolTip("Width of the blended edge around a re-rolled class.")
        form.addRow(self.keep_others)
        form.addRow("Soft edge", self.feather)
        self.change_seed = seed_field()
        form.addRow("Seed", self.change_seed)
        self.change_button = QPushButton("Re-roll class")
        self.change_button.clicked.connect(self.change_class)
        form.addRow(self.change_button)
        return tab

    def _style_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        self.ref_doc_combo = QComboBox()
        self.ref_doc_combo.currentIndexChanged.connect(self._fill_reference_combos)
        form.addRow("Reference", self.ref_doc_combo)
        self.ref_image_combo = QComboBox()
        form.addRow("Its image layer", self.ref_image_combo)
        self.ref_label_combo = QComboBox()
        form.addRow("Its label layer", self.ref_label_combo)
        self.style_classes = QListWidget()
        self.style_classes.setToolTip("Tick classes to take only their style; none ticked: every shared class.")
        self.style_classes.setMaximumHeight(120)
        form.addRow("Only", self.style_classes)
        self.take_global = QCheckBox("Also take the reference's overall look")
        self.take_global.setChecked(True)
        form.addRow(self.take_global)
        self.style_seed = seed_field()
        form.addRow("Seed", self.style_seed)
        self.style_button = QPushButton("Apply style")
        self.style_button.clicked.connect(self.transfer_style)
        form.addRow(self.style_button)
        return tab

    def _progress_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        return row

    # ---- the daemon -------------------------------------------------------------------------

    def reconnect(self) -> None:
        endpoint = self.address.text().strip() or DEFAULT_ENDPOINT
        save_setting("endpoint", endpoint)
        self.live_toggle.setChecked(False)
        self.connection.close()
        self._job_ended()
        self._connect(endpoint)

    def start_daemon(self) -> None:
        command = shlex.split(setting("daemon_command"))
        if not command or not QProcess.startDetached(command[0], command[1:]):
            self._show_error("Could not start the daemon: run install/install_krita_plugin.sh to set its "
                             "command, or start clvae-daemon in a terminal.")
            return
        self._show_note("Starting the daemon; it connects within a few seconds.")
        QTimer.singleShot(3000, self.reconnect)

    def _poll(self) -> None:
        before = (self.connection.state, self.connection.failure)
        self.connection.poll()
        if (self.connection.state, self.connection.failure) != before:
            self._show_state()

    def _show_state(self) -> None:
        c = self.connection
        if c.state == connection.CONNECTED:
            text = f"● Connected to {c.endpoint}: clvae-daemon {c.hello['daemon']} on {c.hello['device']}"
            self._fill_models()
        elif c.state == connection.CONNECTING:
            text = f"○ Connecting to {c.endpoint}…"
        else:
            text = f"○ Offline. {c.failure}"
        self.state_label.setText(text)
        self.start_button.setVisible(c.state == connection.OFFLINE and bool(setting("daemon_command")))
        self._enable_actions()

    def _fill_models(self) -> None:
        models = self.connection.models()
        first = self.model_combo.count() == 0
        fill_combo(self.model_combo, [(m["model"], m["model"]) for m in models])
        if first:
            self.model_combo.setCurrentIndex(max(self.model_combo.findData(self.connection.hello["default_model"]), 0))
        self._model_changed()
        for model in models:
            self._install_palette(model)

    def _install_palette(self, model: dict) -> None:
        name = kpl.palette_name(model["model"])
        data = kpl.model_kpl(model["model"], Palette.from_model_info(model))
        try:
            path, written = krita_io.install_palette(kpl.file_name(model["model"]), data)
        except OSError as error:
            self._show_error(f"Could not save the palette \"{name}\": {error}")
            return
        if written and not krita_io.palette_loaded(name):
            self._show_note(f"Saved the palette \"{name}\" to {path}; Krita lists it in the Palette docker "
                            "after a restart.")

    def model_info(self) -> Optional[dict]:
        return self.connection.model_info(self.model_combo.currentData())

    def _model_changed(self) -> None:
        info = self.model_info()
        if self.live is not None and (info is None or info["model"] != self.live.session.model):
            self.live_toggle.setChecked(False)
        palette = Palette.from_model_info(info) if info else Palette([])
        self.swatches.clear()
        self.style_classes.clear()
        for entry in palette.classes:
            icon = self._swatch_icon(entry.rgb)
            item = QListWidgetItem(icon, f"{entry.name}  {entry.hex}")
            item.setData(Qt.UserRole, entry.id)
            self.swatches.addItem(item)
            ticked = QListWidgetItem(icon, entry.name)
            ticked.setData(Qt.UserRole, entry.id)
            ticked.setFlags(ticked.flags() | Qt.ItemIsUserCheckable)
            ticked.setCheckState(Qt.Unchecked)
            self.style_classes.addItem(ticked)
        classes = [(entry.name, entry.id) for entry in palette.classes]
        fill_combo(self.class_combo, classes)
        fill_combo(self.transparent_combo, [("Report them", None)] + [(f"Class {name}", i) for name, i in classes])
        groups = info.get("layer_groups", {}) if info else {}
        for index in range(self.layers_combo.count()):
            choice = self.layers_combo.itemData(index)
            self.layers_combo.setItemData(index, f"Encoder layers {groups.get(choice, [])}", Qt.ToolTipRole)

    @staticmethod
    def _swatch_icon(rgb: tuple[int, int, int]) -> QIcon:
        pixmap = QPixmap(SWATCH_SIZE, SWATCH_SIZE)
        pixmap.fill(QColor(*rgb))
        return QIcon(pixmap)

    def _swatch_clicked(self, item: QListWidgetItem) -> None:
        class_id = item.data(Qt.UserRole)
        info = self.model_info()
        if info is None:
            return
        entry = Palette.from_model_info(info).by_id[class_id]
        if krita_io.set_foreground(entry.rgb):
            self._show_note(f"Painting {entry.name} ({entry.hex}).")
        self.class_combo.setCurrentIndex(self.class_combo.findData(class_id))

    # ---- layer lists ------------------------------------------------------------------------

    def refresh_lists(self) -> None:
        """Refill the layer and document lists when the open documents or their layers changed."""
        app = Krita.instance()
        docs, active = app.documents(), app.activeDocument()
        layers = {doc_key(doc): [info for _, info in krita_io.document_layers(doc)] for doc in docs}
        signature = (doc_key(active) if active else None, [(key, doc.name(), layers[key])
                                                           for doc, key in zip(docs, layers)])
        if signature == self.signature:
            return
        self.signature = signature
        fill_combo(self.ref_doc_combo, [(doc.name() or "untitled", doc_key(doc)) for doc in docs])
        self._fill_layer_combos(active, layers.get(signature[0], []))
        self._fill_reference_combos()

    def _fill_layer_combos(self, doc, layers: list[placement.LayerInfo]) -> None:
        paint = [layer for layer in layers if layer.kind == placement.PAINT_LAYER]
        fill_combo(self.label_combo, [("Automatic", None)] +
                   [(layer.name, layer.uid) for layer in placement.label_candidates(layers)])
        try:
            records = krita_io.load_records(doc) if doc is not None else {}
        except ValueError as error:  # damaged records: say so, keep working
            records = {}
            self._show_error(str(error))
        fill_combo(self.result_combo, [("Active layer", None)] +
                   [(layer.name, layer.uid) for layer in paint if layer.uid in records])

    def _fill_reference_combos(self) -> None:
        doc = self._reference_doc()
        layers = [info for _, info in krita_io.document_layers(doc)] if doc is not None else []
        paint = [(layer.name, layer.uid) for layer in layers if layer.kind == placement.PAINT_LAYER]
        fill_combo(self.ref_image_combo, [("Automatic: its top layer", None)] + paint)
        fill_combo(self.ref_label_combo, [("Automatic: its \"labels\" layer", None)] + paint)

    def _reference_doc(self):
        return next((doc for doc in Krita.instance().documents() if doc_key(doc) == self.ref_doc_combo.currentData()),
                    None)

    # ---- actions ----------------------------------------------------------------------------

    def _target(self, label_uid: Optional[str] = None) -> actions.Target:
        info = self.model_info()
        if info is None:
            raise actions.ActionError("Not connected to the daemon: start clvae-daemon, then press Reconnect.")
        return actions.target(krita_io.active_document(), label_uid or self.label_combo.currentData(), info,
                              self.transparent_combo.currentData())

    def generate(self) -> None:
        save_setting("count", str(self.count.value()))
        self._run(lambda: actions.plan_generate(self._target(), self.count.value(), seed_of(self.generate_seed)))

    def change_class(self) -> None:
        strength = self.strength.value() / 100 if self.nudge_mode.isChecked() else None
        if self.live is not None:
            session = self.live.session
            session.change_codes(live.class_edit(self.class_combo.currentData(), self.layers_combo.currentData(),
                                                 seed_of(self.change_seed), strength, session.model))
            return

        def plan() -> actions.Plan:
            doc = krita_io.active_document()
            source = self._result_uid(doc)
            record = actions.source_record(doc, source)
            label_uid = record.label_layer if krita_io.node_by_uid(doc, record.label_layer) else None
            return actions.plan_change(self._target(label_uid), source, self.class_combo.currentData(),
                                       self.layers_combo.currentData(), seed_of(self.change_seed),
                                       self.keep_others.isChecked(), self.feather.value(), strength)

        self._run(plan)

    def _result_uid(self, doc) -> Optional[str]:
        if doc is None:
            raise actions.ActionError("Open an image with clvae results first.")
        chosen = self.result_combo.currentData()
        candidates = [self.result_combo.itemData(i) for i in range(1, self.result_combo.count())]
        active = doc.activeNode()
        return chosen or placement.pick_result_layer(candidates, krita_io.uid_of(active) if active else None)

    def class_from_selection(self) -> None:
        try:
            t = self._target()
            selection = krita_io.read_selection(t.doc)
            if selection is None:
                raise actions.ActionError("Select part of the image first.")
            class_id = pixels.majority_class(t.label.ids, pixels.selection_mask(selection))
            if class_id is None:
                raise actions.ActionError("The selection is empty.")
        except actions.ActionError as error:
            self._show_error(str(error))
            return
        self.class_combo.setCurrentIndex(self.class_combo.findData(class_id))
        self._show_note(f"Class under the selection: {t.palette.by_id[class_id].name}.")

    def transfer_style(self) -> None:
        if self.live is not None:
            self._live_style()
            return

        def plan() -> actions.Plan:
            t = self._target()
            return actions.plan_transfer(t, self._reference(t.label), seed_of(self.style_seed),
                                         self.take_global.isChecked())

        self._run(plan)

    def _reference(self, label) -> actions.Reference:
        ref_doc = self._reference_doc()
        if ref_doc is None:
            raise actions.ActionError("Open the reference image (with its label layer) in Krita first.")
        classes = [self.style_classes.item(i).data(Qt.UserRole) for i in range(self.style_classes.count())
                   if self.style_classes.item(i).checkState() == Qt.Checked]
        return actions.read_reference(label, ref_doc, self.ref_image_combo.currentData(),
                                      self.ref_label_combo.currentData(), classes, self.model_info(),
                                      self.transparent_combo.currentData())

    def _live_style(self) -> None:
        session = self.live.session
        try:
            if session.label is None:
                raise actions.ActionError("Live has not read the label layer yet.")
            ref = self._reference(session.label)
        except actions.ActionError as error:
            self._show_error(str(error))
            return
        session.change_codes(live.style_edit(ref.image, ref.label, ref.classes or ref.shared,
                                             self.take_global.isChecked(), session.model))

    def _run(self, make_plan: Callable[[], actions.Plan]) -> None:
        """Build a plan now, send its request, place its results when they come."""
        if self.request_id is not None:
            return
        started = time.perf_counter()
        try:
            plan = make_plan()
            self.request_id = self.connection.submit(plan.operation, plan.body,
                                                     lambda ok, body: self._done(plan, started, ok, body),
                                                     self._progress)
        except (actions.ActionError, ConnectionError, ValueError) as error:
            self._show_error(str(error))
            return
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self._enable_actions()
        self._show_note(f"Working: {plan.operation}…")

    def _progress(self, fraction: float) -> None:
        self.progress.setRange(0, 100)
        self.progress.setValue(round(100 * fraction))

    def _done(self, plan: actions.Plan, started: float, ok: bool, body: dict) -> None:
        self._job_ended()
        if not ok:
            message = connection.describe_failure(body, self.connection.endpoint)
            self._show_error(message)
            self.jobFailed.emit(plan.operation, message)
            return
        try:
            added = plan.place(requests.results(body))
        except (actions.ActionError, ValueError) as error:
            self._show_error(str(error))
            self.jobFailed.emit(plan.operation, str(error))
            return
        seconds = time.perf_counter() - started
        self.refresh_lists()
        self._show_note(f"Added {len(added)} layer{'s' if len(added) != 1 else ''} in {seconds:.1f} s.")
        self.jobFinished.emit(plan.operation, added, seconds)

    def cancel(self) -> None:
        if self.request_id is not None:
            self.connection.cancel(self.request_id)

    def _job_ended(self) -> None:
        self.request_id = None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self._enable_actions()

    def _enable_actions(self) -> None:
        ready = self.connection.state == connection.CONNECTED and self.request_id is None
        for button in (self.generate_button, self.change_button, self.style_button):
            button.setEnabled(ready)
        self.keep_button.setEnabled(ready and self.live is not None)
        self.shuffle_button.setEnabled(self.live is not None)
        self.live_toggle.setEnabled(self.connection.state == connection.CONNECTED or self.live is not None)

    # ---- live mode ------------------------------------------------------------------------------

    def _live_toggled(self, on: bool) -> None:
        if on:
            self._start_live()
        else:
            self._stop_live()

    def _start_live(self) -> None:
        info = self.model_info()
        try:
            if info is None:
                raise actions.ActionError("Not connected to the daemon: start clvae-daemon, then press Reconnect.")
            doc = krita_io.active_document()
            node = actions.label_node(doc, self.label_combo.currentData())
            codes, seed = self._live_codes(doc, info["model"])
        except ValueError as error:  # ActionError, damaged result records
            self._show_error(str(error))
            self.live_toggle.setChecked(False)
            return
        watcher = live.LabelWatcher(Palette.from_model_info(info), self.transparent_combo.currentData(),
                                    live.working_side(info))
        session = live.LiveSession(self.connection, info["model"], self._show_live, codes, seed)
        self.live = LiveLink(doc, node, watcher, session)
        self.live_timer.start()
        self._show_note(f"Live: following \"{node.name()}\"" + (" with the chosen result's codes." if codes else "."))
        self._enable_actions()

    def _live_codes(self, doc, model: str) -> tuple[Optional[dict], Optional[int]]:
        """The codes to start from: those of the result layer the Re-roll tab names (if this model
        made it), else none (new ones, with the Generate tab's seed)."""
        record = krita_io.load_records(doc).get(self._result_uid(doc))
        if record is not None and record.model == model:
            return record.codes, record.seed
        return None, seed_of(self.generate_seed)

    def _stop_live(self) -> None:
        """Cancel everything Live started and take its preview out."""
        link, self.live = self.live, None
        self.live_timer.stop()
        if link is None:
            return
        link.session.stop()
        link.watcher.close()
        if self._live_target_exists(link):
            krita_io.remove_preview(link.doc, link.label_node)
        self.live_state.setText("Off")
        self._enable_actions()

    def _live_tick(self) -> None:
        link = self.live
        self._poll()
        if self.live is not link:  # the poll stopped it (another model, a reconnect)
            return
        reading = link.watcher.collect()
        if reading is not None and reading.error is not None:
            self._show_error(f"Live: the label layer \"{link.label_node.name()}\": {reading.error}")
        elif reading is not None:
            link.session.label_changed(reading.label, reading.read_at)
        now = time.perf_counter()
        if now - link.alive_at >= LIVE_ALIVE_S:
            link.alive_at = now
            if self._stop_live_if_gone():
                return
        if not link.watcher.busy and now - link.checked_at >= LIVE_CHECK_S:
            link.checked_at = now
            krita_io.check_labels(link.watcher, link.doc, link.label_node)
        self._show_live_state(link)

    def _stop_live_if_gone(self) -> bool:
        """Switch Live off if its image was closed or its label layer deleted; True then."""
        if self.live is None or self._live_target_exists(self.live):
            return False
        self._show_error("Live stopped: its image or label layer is gone.")
        self.live_toggle.setChecked(False)
        return True

    @staticmethod
    def _live_target_exists(link: LiveLink) -> bool:
        open_doc = any(doc == link.doc for doc in Krita.instance().documents())  # touches no other document
        return open_doc and krita_io.node_by_uid(link.doc, krita_io.uid_of(link.label_node)) is not None

    def _show_live_state(self, link: LiveLink) -> None:
        session = link.session
        shown = f" · last round trip {1e3 * session.shown.round_trip:.0f} ms" if session.shown else ""
        text = f"{session.state.capitalize()}{shown}"
        if text != self.live_state.text():
            self.live_state.setText(text)
        if session.failure is not link.failure:
            link.failure = session.failure
            if session.failure is not None:
                self._show_error("Live: " + connection.describe_failure(session.failure, self.connection.endpoint))

    def _show_live(self, shown: live.Shown) -> None:
        link = self.live
        if self._stop_live_if_gone():
            return
        bgra = krita_io.canvas_bgra(shown.image, link.doc.width(), link.doc.height())
        krita_io.show_preview(link.doc, link.label_node, bgra)
        self.livePreviewShown.emit(shown.read_at, shown.round_trip)

    def _transparent_changed(self) -> None:
        if self.live is not None:
            self.live.watcher.transparent = self.transparent_combo.currentData()

    def shuffle_live(self) -> None:
        if self.live is not None:
            self.live.session.shuffle()

    def keep_live(self) -> None:
        link = self.live
        if link is None or link.session.codes is None:
            self._show_error("Turn Live on and wait for its picture first.")
            return
        codes, seed, model = link.session.codes, link.session.seed, link.session.model
        self._run(lambda: actions.plan_keep(actions.target(link.doc, krita_io.uid_of(link.label_node),
                                                           self.connection.model_info(model),
                                                           self.transparent_combo.currentData()), codes, seed))

    def _show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setText(text)

    def _show_note(self, text: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(text)
