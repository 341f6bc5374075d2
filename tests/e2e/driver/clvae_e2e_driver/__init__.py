"""Drives clvae's Krita plugin through a scripted session inside a real Krita, for
tests/e2e/test_krita.py. Everything goes through the plugin's own docker: its widgets are
set and its buttons clicked; results are awaited on its signals.

Environment: CLVAE_E2E_OUT (a folder for the log, pixel dumps and screenshots),
CLVAE_E2E_SCENARIO ("prepare": start and quit; "first": paint labels, generate, re-roll,
nudge inside a selection, style from a reference, save; "reopen": open the saved .kra and
re-roll one of its results; "live": Live mode under scripted strokes, its latency and the
cost of its change checks), CLVAE_E2E_DEADLINE (seconds before the driver gives up).
The log (log.json) records what happened; pixel dumps are raw canvas-sized BGRA bytes.
"""

import json
import os
import random
import statistics
import time
import traceback
from pathlib import Path

from krita import Extension, Krita, Palette, Selection
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication, QDockWidget, QMdiArea

OUT = Path(os.environ.get("CLVAE_E2E_OUT", "."))
SCENARIO = os.environ.get("CLVAE_E2E_SCENARIO", "prepare")
DEADLINE = float(os.environ.get("CLVAE_E2E_DEADLINE", "100"))
STEP_MS = 20
SIZE = 512
LABEL_NAMES = ("sky", "mountain", "grass", "tree")  # preferred classes, by name, else the first four
LOG = {"scenario": SCENARIO, "steps": [], "layers": {}, "timings": {}, "errors": [], "finished": False}


# ---- stepping ---------------------------------------------------------------------------------


class Runner:
    """Runs a generator that yields predicates: each step waits until its predicate holds."""

    def __init__(self, steps):
        self.steps, self.waiting = steps, None
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.started = time.monotonic()

    def start(self):
        self.timer.start(STEP_MS)

    def tick(self):
        if time.monotonic() - self.started > DEADLINE:
            fail(f"deadline of {DEADLINE:.0f} s passed in step {LOG['steps'][-1:] or 'start'}")
        try:
            if self.waiting is not None and not self.waiting():
                return
            self.waiting = next(self.steps)
        except StopIteration:
            self.timer.stop()
            LOG["finished"] = True
            finish()
        except Exception:
            fail(traceback.format_exc())


def step(name):
    LOG["steps"].append(name)


def write_log():
    (OUT / "log.json").write_text(json.dumps(LOG, indent=1))


def fail(message):
    LOG["errors"].append(message)
    write_log()
    os._exit(3)


def finish():
    write_log()
    for doc in Krita.instance().documents():
        doc.setModified(False)
    QTimer.singleShot(10_000, lambda: os._exit(4))  # quitting hung
    Krita.instance().action("file_quit").trigger()


def arrange_window(dock):
    """The window over the whole screen, only the Layers docker beside ours, for screenshots."""
    window = Krita.instance().activeWindow().qwindow()
    window.setGeometry(QApplication.primaryScreen().availableGeometry())
    for other in window.findChildren(QDockWidget):
        if other.windowTitle() == "Layers":
            other.setMaximumHeight(240)
        elif other is not dock:
            other.hide()
    dock.setMinimumWidth(440)
    window.findChild(QMdiArea).setViewMode(QMdiArea.TabbedView)  # one document at a time, filling the canvas


def pause(seconds):
    until = time.monotonic() + seconds
    yield lambda: time.monotonic() > until


def fit_canvas():
    """Zoom the new view to fit its settled size: the action toggles, and a new view starts
    in fit mode laid out for its first size, so off and on again."""
    for _ in range(2):
        yield from pause(0.4)
        Krita.instance().action("toggle_zoom_to_fit").trigger()
    yield from pause(0.4)


def shot(name, dock, tab):
    """A screenshot with the docker on ``tab``, once Krita's zoom message has faded."""
    dock.tabs.setCurrentIndex(tab)
    yield from pause(1.5)
    (OUT / "shots").mkdir(exist_ok=True)
    QApplication.primaryScreen().grabWindow(0).save(str(OUT / "shots" / f"{name}.png"))


# ---- the plugin ----------------------------------------------------------------------------


def docker():
    from clvae_krita.docker import SemanticDocker

    window = Krita.instance().activeWindow()
    found = window.qwindow().findChildren(SemanticDocker) if window is not None else []
    return found[0] if found else None


def wait_connected():
    step("wait for the docker and the daemon")
    yield lambda: docker() is not None
    dock = docker()
    dock.setVisible(True)
    dock.raise_()
    yield lambda: dock.connection.state == "connected"
    LOG["model"] = dock.model_info()
    return dock


def click_and_wait(dock, button, tag):
    """Click ``button``; wait for the docker's finished or failed signal; log it."""
    outcome = []
    dock.jobFinished.connect(lambda op, uids, seconds: outcome.append(("ok", op, list(uids), seconds)))
    dock.jobFailed.connect(lambda op, message: outcome.append(("failed", op, message, 0.0)))
    started = time.perf_counter()
    button.click()
    if not outcome and dock.request_id is None:
        fail(f"{tag}: the click started no request: {dock.message.text()}")
    yield lambda: outcome
    status, operation, detail, seconds = outcome[0]
    LOG["timings"][tag] = {"click_to_layers": time.perf_counter() - started, "docker_seconds": seconds}
    if status != "ok":
        fail(f"{tag}: {detail}")
    return detail


def choose(combo, data):
    index = combo.findData(data)
    if index < 0:
        fail(f"no entry {data!r} in {[combo.itemData(i) for i in range(combo.count())]}")
    combo.setCurrentIndex(index)


# ---- documents ---------------------------------------------------------------------------------


def classes_to_paint(model):
    by_name = {c["name"]: c for c in model["classes"]}
    chosen = [by_name[n] for n in LABEL_NAMES] if all(n in by_name for n in LABEL_NAMES) else model["classes"][:4]
    return [(c["id"], tuple(c["color"])) for c in chosen]


def bgra(rgb):
    r, g, b = rgb
    return bytes((b, g, r, 255))


def scene_rows(classes, width, height):
    """Label rows: class 0 on top, an antialiased seam, class 1, then class 2 with a block of 3."""
    (_, a), (_, b), (_, c), (_, d) = classes
    seam = tuple(round(x + 0.4 * (y - x)) for x, y in zip(a, b))
    rows = []
    for y in range(height):
        if y < height * 2 // 5:
            row = bgra(a) * width
        elif y == height * 2 // 5:
            row = bgra(seam) * width
        elif y < height * 13 // 20:
            row = bgra(b) * width
        elif height * 3 // 4 <= y < height * 15 // 16:
            left, right = width * 9 // 16, width * 7 // 8
            row = bgra(c) * left + bgra(d) * (right - left) + bgra(c) * (width - right)
        else:
            row = bgra(c) * width
        rows.append(row)
    return b"".join(rows)


def new_document(name, width, height, layers):
    """A document with paint layers (name, BGRA bytes), bottom first, shown in a view."""
    app = Krita.instance()
    doc = app.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
    for layer_name, pixels in layers:
        node = doc.createNode(layer_name, "paintlayer")
        doc.rootNode().addChildNode(node, None)
        node.setPixelData(pixels, 0, 0, width, height)
    doc.refreshProjection()
    view = app.activeWindow().addView(doc)
    return doc, view


def photo(width, height):
    """A reference picture: a blue gradient over a green one."""
    rows = []
    for y in range(height):
        shade = 80 + 150 * y // height
        colour = (40, shade, 250) if y < height // 2 else (30, shade, 40)
        rows.append(bgra(colour) * width)
    return b"".join(rows)


def palette_entries(model):
    """(name, [r, g, b]) of the swatches Krita loaded from the installed clvae palette."""
    from clvae_krita import kpl

    resource = Krita.instance().resources("palette").get(kpl.palette_name(model["model"]))
    if resource is None:
        return None
    palette = Palette(resource)
    entries = []
    for index in range(palette.colorsCountTotal()):
        swatch = palette.colorSetEntryByIndex(index)
        colour = swatch.color().colorForCanvas(Krita.instance().activeWindow().activeView().canvas())
        entries.append([swatch.name(), [colour.red(), colour.green(), colour.blue()]])
    return entries


def foreground_rgb():
    view = Krita.instance().activeWindow().activeView()
    colour = view.foregroundColor().colorForCanvas(view.canvas())
    return [colour.red(), colour.green(), colour.blue()]


def plugin_step_times(doc, labels, model):
    """Seconds of the plugin's own work around a request: reading the label layer into class
    ids, and turning one RGB result into BGRA layer pixels."""
    from clvae_krita import actions, pixels

    started = time.perf_counter()
    actions.read_labels(doc, labels, model, None)
    read = time.perf_counter() - started
    rgb = bytes(3 * doc.width() * doc.height())
    started = time.perf_counter()
    pixels.rgb_to_bgra(rgb)
    return {"read_label_layer": read, "rgb_to_bgra": time.perf_counter() - started}


def active_name():
    doc = Krita.instance().activeDocument()
    LOG["active_document"] = doc.name() if doc is not None else None
    return LOG["active_document"]


def dump(tag, doc, node):
    data = bytes(node.pixelData(0, 0, doc.width(), doc.height()))
    (OUT / f"{tag}.bgra").write_bytes(data)
    bounds = node.bounds()
    LOG["layers"][tag] = {"uid": node.uniqueId().toString(), "name": node.name(), "width": doc.width(),
                          "height": doc.height(), "bounds": [bounds.x(), bounds.y(), bounds.width(), bounds.height()],
                          "parent": node.parentNode().name()}


def layer_tree(doc):
    from clvae_krita import krita_io

    return [[info.name, info.kind, info.parent and krita_io.node_by_uid(doc, info.parent).name()]
            for _, info in krita_io.document_layers(doc)]


def node_of(doc, uid):
    from clvae_krita import krita_io

    return krita_io.node_by_uid(doc, uid)


# ---- scenarios -------------------------------------------------------------------------------


def prepare():
    step("prepared")
    yield lambda: Krita.instance().activeWindow() is not None


def first():
    dock = yield from wait_connected()
    arrange_window(dock)
    yield from pause(1.0)  # let the window settle before views are made in it
    classes = classes_to_paint(dock.model_info())
    LOG["classes"] = classes
    sky, mountain, grass, tree = (class_id for class_id, _ in classes)

    step("open a reference: a picture and its labels")  # first: the last document opened is the active one
    half = 192 // 2
    ref_labels = bgra(classes[0][1]) * (256 * half) + bgra(classes[2][1]) * (256 * half)
    ref, _ = new_document("reference", 256, 192, [("photo", photo(256, 192)), ("labels", ref_labels)])

    step("paint the label layer")
    doc, _ = new_document("scene", SIZE, SIZE, [("labels", scene_rows(classes, SIZE, SIZE))])
    labels = doc.nodeByName("labels")
    doc.setActiveNode(labels)
    dump("labels_before", doc, labels)
    yield lambda: active_name() == "scene" and dock.label_combo.count() > 1
    yield from fit_canvas()
    yield from shot("plugin_labels", dock, 0)

    step("palette: Krita's resource and the swatches")
    LOG["palette"] = palette_entries(dock.model_info())
    tree_item = next(dock.swatches.item(i) for i in range(dock.swatches.count())
                     if dock.swatches.item(i).data(0x0100) == tree)  # Qt.UserRole
    dock.swatches.itemClicked.emit(tree_item)
    LOG["foreground"] = foreground_rgb()

    step("generate")
    dock.count.setValue(2)
    dock.generate_seed.setText("100")
    generated = yield from click_and_wait(dock, dock.generate_button, "generate")
    for index, uid in enumerate(generated):
        dump(f"generate_{index}", doc, node_of(doc, uid))
    LOG["timings"]["plugin_steps"] = plugin_step_times(doc, labels, dock.model_info())
    yield from shot("plugin_generate", dock, 0)

    step("class under a selection")
    selection = Selection()
    selection.select(SIZE * 5 // 8, SIZE * 25 // 32, SIZE // 8, SIZE // 16, 255)
    doc.setSelection(selection)
    dock.class_from_selection()
    LOG["class_from_selection"] = dock.class_combo.currentData()
    Krita.instance().action("deselect").trigger()
    yield lambda: doc.selection() is None or doc.selection().width() == 0

    step("re-roll the sky, keeping the rest")
    dock.refresh_lists()
    choose(dock.result_combo, generated[0])
    choose(dock.class_combo, sky)
    dock.reroll_mode.setChecked(True)
    dock.keep_others.setChecked(True)
    dock.feather.setValue(4)
    dock.change_seed.setText("7")
    (rerolled,) = yield from click_and_wait(dock, dock.change_button, "reroll")
    dump("reroll", doc, node_of(doc, rerolled))
    LOG["reroll"] = {"class": sky, "feather": 4}
    yield from shot("plugin_reroll", dock, 1)

    step("nudge the grass inside a selection")
    box = (0, SIZE * 3 // 5, SIZE // 2, SIZE * 2 // 5)
    selection = Selection()
    selection.select(*box, 255)
    doc.setSelection(selection)
    choose(dock.result_combo, generated[0])
    choose(dock.class_combo, grass)
    dock.nudge_mode.setChecked(True)
    dock.strength.setValue(80)
    (nudged,) = yield from click_and_wait(dock, dock.change_button, "nudge")
    dump("nudge", doc, node_of(doc, nudged))
    LOG["nudge"] = {"class": grass, "box": box}
    Krita.instance().action("deselect").trigger()

    step("style from the reference document")
    dock.refresh_lists()
    choose(dock.ref_doc_combo, ref.rootNode().uniqueId().toString())
    dock.refresh_lists()
    dock.style_seed.setText("3")
    (styled,) = yield from click_and_wait(dock, dock.style_button, "style")
    dump("style", doc, node_of(doc, styled))
    yield from shot("plugin_style", dock, 2)

    step("save")
    dump("labels_after", doc, labels)
    LOG["tree"] = layer_tree(doc)
    doc.setBatchmode(True)
    LOG["saved"] = doc.saveAs(str(OUT / "scene.kra"))
    doc.setBatchmode(False)
    LOG["generated"] = generated


def reopen():
    dock = yield from wait_connected()
    first_log = json.loads((OUT / "first.json").read_text())
    step("open the saved .kra")
    app = Krita.instance()
    doc = app.openDocument(str(OUT / "scene.kra"))
    app.activeWindow().addView(doc)
    source = first_log["generated"][1]
    yield lambda: dock.result_combo.findData(source) >= 0
    from clvae_krita import krita_io

    LOG["records"] = sorted(krita_io.load_records(doc))
    step("re-roll a class of a result made before saving")
    tree_class = first_log["classes"][3][0]
    choose(dock.result_combo, source)
    choose(dock.class_combo, tree_class)
    dock.reroll_mode.setChecked(True)
    dock.change_seed.setText("11")
    (rerolled,) = yield from click_and_wait(dock, dock.change_button, "reroll_reopened")
    dump("reopened_source", doc, node_of(doc, source))
    dump("reopened_reroll", doc, node_of(doc, rerolled))
    LOG["reroll_reopened"] = {"class": tree_class, "feather": dock.feather.value()}

    step("a label layer with a stray colour is reported, not sent")
    stray = bytearray(bgra(first_log["classes"][0][1]) * (64 * 48))
    stray[4 * (10 * 64 + 20): 4 * (10 * 64 + 20) + 4] = bgra((255, 0, 255))
    new_document("stray", 64, 48, [("labels", bytes(stray))])
    yield lambda: active_name() == "stray" and dock.label_combo.count() > 1
    dock.generate_button.click()
    LOG["stray"] = {"message": dock.message.text(), "sent": dock.request_id is not None}


# ---- live mode -------------------------------------------------------------------------------

LIVE_STROKES = 20
BURST_STROKES = 10
DAB = 24  # side of one painted square, pixels
BIG = 2048
CHECKS = 30  # change checks timed per canvas size


class LabelCanvas:
    """The label layer and the driver's own copy of what it painted there, to check that
    nothing else ever writes to it."""

    def __init__(self, node, pixels, width):
        self.node, self.expected, self.width = node, bytearray(pixels), width

    def class_at(self, x, y):
        return bytes(self.expected[4 * (y * self.width + x): 4 * (y * self.width + x) + 4])

    def dab(self, x, y, rgb):
        self.node.setPixelData(bgra(rgb) * (DAB * DAB), x, y, DAB, DAB)
        for row in range(y, y + DAB):
            start = 4 * (row * self.width + x)
            self.expected[start: start + 4 * DAB] = bgra(rgb) * DAB
        return time.perf_counter()

    def random_dab(self, rng, classes):
        """A dab of a class other than the one under its corner, so that it changes the labels."""
        x, y = rng.randrange(0, self.width - DAB), rng.randrange(0, self.width - DAB)
        rgb = rng.choice([rgb for _, rgb in classes if bgra(rgb) != self.class_at(x, y)])
        return self.dab(x, y, rgb)


def preview_of(doc):
    from clvae_krita.placement import PREVIEW_NAME

    return doc.nodeByName(PREVIEW_NAME)


def wait_for_preview(shown, after, since):
    """Wait for a preview made from label pixels read after ``after``; its arrival time."""
    yield lambda: any(read_at >= after for _, read_at, _ in shown[since:])
    return next(at for at, read_at, _ in shown[since:] if read_at >= after)


def click_for_new_preview(dock, shown, button, tag):
    """Click ``button`` (a Live action) and wait for the next preview."""
    seen = len(shown)
    button.click()
    yield lambda: len(shown) > seen and dock.live.session.state == "up to date"
    dump(tag, dock.live.doc, preview_of(dock.live.doc))


def check_costs(doc, node, model):
    """Milliseconds of change checks on ``node``: the UI thread's part (reading the pixels,
    handing them over) per check, and the worker's (fingerprint; working size and classes)."""
    from clvae_krita import live
    from clvae_krita.krita_io import check_labels
    from clvae_krita.palette import Palette, read_label_pixels

    palette, side = Palette.from_model_info(model), live.working_side(model)
    watcher = live.LabelWatcher(palette, None, side)
    ui = []
    for _ in range(CHECKS):
        started = time.perf_counter()
        check_labels(watcher, doc, node)
        ui.append(1e3 * (time.perf_counter() - started))
        yield lambda: watcher.collect() is not None or not watcher.busy
    watcher.close()
    width, height = doc.width(), doc.height()
    step = live.working_step(width, height, side)
    band = live.Pixels(node.pixelData(0, 0, width, live.band_rows(width, step)), width, height, 0, 0.0)
    layer = live.Pixels(node.pixelData(0, 0, width, height), width, height, 0, 0.0)
    started = time.perf_counter()
    live.fingerprint(band)
    fingerprinted = time.perf_counter()
    read_label_pixels(live.downsample(layer, step), -(-width // step), -(-height // step), palette)
    return {"ui_median": statistics.median(ui), "ui_p95": sorted(ui)[int(0.95 * len(ui))], "ui_max": max(ui),
            "band_rows": min(height, live.band_rows(width, step)),
            "worker_fingerprint": 1e3 * (fingerprinted - started),
            "worker_read_labels": 1e3 * (time.perf_counter() - fingerprinted)}


def close(doc):
    """Close ``doc`` without Krita asking whether to save it."""
    doc.setModified(False)
    doc.close()


def daemon_status(dock):
    from clvae_krita.client import Client

    with Client(dock.connection.endpoint, timeout=5) as client:
        return client.request("status").body


def live():
    dock = yield from wait_connected()
    classes = classes_to_paint(dock.model_info())
    LOG["classes"] = classes
    rng = random.Random(0)

    step("paint the label layer")
    doc, _ = new_document("live", SIZE, SIZE, [("labels", scene_rows(classes, SIZE, SIZE))])
    canvas = LabelCanvas(doc.nodeByName("labels"), scene_rows(classes, SIZE, SIZE), SIZE)
    doc.setActiveNode(canvas.node)
    yield lambda: active_name() == "live" and dock.label_combo.count() > 1
    shown = []  # (when shown, when its label pixels were read, round trip), perf_counter seconds
    dock.livePreviewShown.connect(lambda read_at, round_trip: shown.append((time.perf_counter(), read_at,
                                                                             round_trip)))

    step("live on: the first picture")
    dock.generate_seed.setText("100")
    dock.live_toggle.setChecked(True)
    if dock.live is None:
        fail(f"Live did not start: {dock.message.text()}")
    yield lambda: shown and dock.live.session.state == "up to date"
    dump("live_first", doc, preview_of(doc))

    step("strokes one at a time: stroke to preview")
    latencies = []
    for _ in range(LIVE_STROKES):
        seen = len(shown)
        painted = canvas.random_dab(rng, classes)
        arrived = yield from wait_for_preview(shown, painted, seen)
        latencies.append(arrived - painted)
        yield from pause(rng.uniform(0.05, 0.25))  # strokes at any phase of the polling
    dump("live_strokes", doc, preview_of(doc))

    step("a burst of strokes faster than the daemon")
    sent = dock.live.session.sent
    for _ in range(BURST_STROKES):
        painted = canvas.random_dab(rng, classes)
        yield from pause(0.02)
    yield from wait_for_preview(shown, painted, 0)
    yield lambda: dock.live.session.state == "up to date"
    LOG["burst"] = {"strokes": BURST_STROKES, "requests": dock.live.session.sent - sent}
    dump("live_burst", doc, preview_of(doc))

    step("re-roll the sky's codes, then shuffle them")
    choose(dock.class_combo, classes[0][0])
    dock.reroll_mode.setChecked(True)
    dock.change_seed.setText("7")
    yield from click_for_new_preview(dock, shown, dock.change_button, "live_reroll")
    yield from click_for_new_preview(dock, shown, dock.shuffle_button, "live_shuffle")

    step("keep")
    (kept,) = yield from click_and_wait(dock, dock.keep_button, "keep")
    dump("live_kept", doc, node_of(doc, kept))
    LOG["live_tree"] = layer_tree(doc)
    LOG["live_kept_name"] = node_of(doc, kept).name()

    step("the cost of change checks on the UI thread")
    LOG["check_ms"] = {str(SIZE): (yield from check_costs(doc, canvas.node, dock.model_info()))}
    big, _ = new_document("big", BIG, BIG, [("labels", scene_rows(classes, BIG, BIG))])
    LOG["check_ms"][str(BIG)] = yield from check_costs(big, big.nodeByName("labels"), dock.model_info())
    close(big)

    step("live off: everything cancelled, the daemon idle")
    session = dock.live.session
    painted = canvas.random_dab(rng, classes)
    yield lambda: session.state == "working"
    dock.live_toggle.setChecked(False)
    off = {"live": dock.live is not None, "preview": preview_of(doc) is not None, "sent": session.sent,
           "shown": len(shown)}
    started = time.perf_counter()
    yield lambda: daemon_status(dock)["running"] is None
    off["idle_after"] = time.perf_counter() - started
    off["status"] = daemon_status(dock)
    canvas.random_dab(rng, classes)
    yield from pause(0.5)
    off["sent_later"], off["shown_later"] = session.sent, len(shown)
    LOG["off"] = off
    dump("labels_after", doc, canvas.node)
    (OUT / "labels_expected.bgra").write_bytes(bytes(canvas.expected))
    LOG["live"] = {"latencies": latencies, "round_trips": [round_trip for _, _, round_trip in shown]}

    step("live on again, then close the image: Live stops by itself")
    yield lambda: active_name() == "live"
    dock.live_toggle.setChecked(True)
    session, seen = dock.live.session, len(shown)
    yield lambda: len(shown) > seen
    canvas.random_dab(rng, classes)
    yield lambda: session.state == "working"
    close(doc)
    closed = time.perf_counter()
    yield lambda: dock.live is None
    LOG["closed"] = {"stopped_after": time.perf_counter() - closed, "toggle": dock.live_toggle.isChecked(),
                     "session_running": session.running}


SCENARIOS = {"prepare": prepare, "first": first, "reopen": reopen, "live": live}


class Driver(Extension):
    def setup(self):
        self.runner = Runner(SCENARIOS[SCENARIO]())
        QTimer.singleShot(0, self.runner.start)

    def createActions(self, window):
        pass


Krita.instance().addExtension(Driver(Krita.instance()))
