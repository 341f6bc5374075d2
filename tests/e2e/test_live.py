"""Live mode end to end: the real daemon (the bundled model, or a random-weight model of its
architecture where it is not installed; one torch thread) and the real Krita under Xvfb, driven by tests/e2e/driver's "live"
scenario. The driver turns Live on, paints strokes into the label layer through the API
(setPixelData), one at a time and in a burst, re-rolls, shuffles and keeps the live picture,
times change checks at 512 x 512 and 2048 x 2048, then turns Live off. The checks read the
layers it dumped and its log; the timings are printed (docs/plugin.md, "Live mode").
"""

from __future__ import annotations

import json
import re
import statistics

import numpy as np
import pytest

from clvae.model_io import save_synthesizer
from daemon.launch import free_port, start_daemon
from tests.e2e.test_krita import (  # noqa: F401  (module fixtures: one Xvfb and one prepared HOME here)
    MODEL_NAME, REASON, SIZE, display, pixels, prepared_home, session, work,
)
from tests.edit.test_render import bundled_model

pytestmark = [pytest.mark.slow, pytest.mark.skipif(REASON is not None, reason=f"no real Krita: {REASON}")]
BIG = 2048


@pytest.fixture(scope="module")
def daemon(work):  # noqa: F811
    model_file = work / "bundled.safetensors"
    save_synthesizer(model_file, bundled_model())
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    child = start_daemon(["--model", f"{MODEL_NAME}={model_file}", "--endpoint", endpoint, "--device", "cpu",
                          "--threads", "1", "--verbose"], endpoint, work / "live-daemon.log")
    yield endpoint, f"{MODEL_NAME}={model_file}"
    assert child.stop() == 0
    assert "Traceback" not in child.log(), child.log()[-3000:]


@pytest.fixture(scope="module")
def run(work, prepared_home, display, daemon):  # noqa: F811
    _, krita = session(work, prepared_home, display, daemon, "live", {})
    return krita


def test_the_preview_is_one_canvas_sized_layer_above_the_results(run):
    for tag in ("live_first", "live_strokes", "live_burst", "live_reroll", "live_shuffle"):
        info = run.log["layers"][tag]
        assert info["name"] == "clvae live" and info["bounds"] == [0, 0, SIZE, SIZE], (tag, info)
        assert info["uid"] == run.log["layers"]["live_first"]["uid"]  # replaced in place, never a new layer
        assert (pixels(run, tag)[..., 3] == 255).all()
    names = [name for name, _, parent in run.log["live_tree"] if parent is None]
    assert names[:3] == ["clvae live", "clvae", "labels"]
    assert sum(name == "clvae live" for name, _, _ in run.log["live_tree"]) == 1


def test_the_preview_follows_every_stroke_and_the_last_of_a_burst(run):
    assert len(run.log["live"]["latencies"]) == 20
    for before, after in (("live_first", "live_strokes"), ("live_strokes", "live_burst"),
                          ("live_burst", "live_reroll"), ("live_reroll", "live_shuffle")):
        assert (pixels(run, before) != pixels(run, after)).any(), (before, after)
    burst = run.log["burst"]
    assert 1 <= burst["requests"] < burst["strokes"]


def test_keep_makes_the_live_picture_a_full_size_result_layer(run):
    kept, preview = (pixels(run, tag)[..., :3].astype(int) for tag in ("live_kept", "live_shuffle"))
    assert np.abs(kept - preview).mean() < 4  # the preview: the same codes, at the working size, scaled up
    assert run.log["live_kept_name"].startswith("live, seed ")
    assert run.log["layers"]["live_kept"]["parent"] == "clvae"


def test_the_label_layer_holds_only_the_strokes(run):
    expected = np.frombuffer((run.out / "labels_expected.bgra").read_bytes(), np.uint8).reshape(SIZE, SIZE, 4)
    assert (pixels(run, "labels_after") == expected).all()


def test_live_off_cancels_everything_and_leaves_the_daemon_idle(run):
    off = run.log["off"]
    assert not off["live"] and not off["preview"]
    assert off["status"]["running"] is None and off["status"]["queued"] == 0 and off["idle_after"] < 2.0
    assert (off["sent_later"], off["shown_later"]) == (off["sent"], off["shown"])


def test_closing_the_image_switches_live_off(run):
    closed = run.log["closed"]
    assert not closed["toggle"] and not closed["session_running"] and closed["stopped_after"] < 1.5


def render_times(work) -> list[float]:
    """Milliseconds each render job ran in the daemon, from its --verbose log."""
    log = (work / "live-daemon.log").read_text()
    return [float(ms) for ms in re.findall(r"\(render [^)]*\): waited [\d.]+ ms, ran ([\d.]+) ms", log)]


def test_stroke_to_preview_latency_and_change_check_costs(run, work):  # noqa: F811
    latencies = sorted(1e3 * s for s in run.log["live"]["latencies"])
    report = {"canvas": f"{SIZE} x {SIZE}", "strokes": len(latencies),
              "stroke_to_preview_ms": {"median": round(statistics.median(latencies)),
                                       "p95": round(latencies[int(0.95 * len(latencies))]),
                                       "min": round(latencies[0]), "max": round(latencies[-1])},
              "round_trip_ms_median": round(1e3 * statistics.median(run.log["live"]["round_trips"])),
              "daemon_render_ms_median": round(statistics.median(render_times(work))),
              "burst": run.log["burst"], "idle_after_off_ms": round(1e3 * run.log["off"]["idle_after"]),
              "check_ms": {size: {name: round(value, 2) for name, value in costs.items()}
                           for size, costs in run.log["check_ms"].items()}}
    print("live timing:", json.dumps(report))
    assert statistics.median(latencies) < 2000  # the goal (250 ms) is for a quiet machine: docs/plugin.md
    assert run.log["check_ms"][str(SIZE)]["ui_median"] < 5 and run.log["check_ms"][str(BIG)]["ui_median"] < 15
