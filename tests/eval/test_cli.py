"""``clvae eval`` and ``python -m clvae.eval.compare`` end to end on tiny random models and
random weight files with the official layouts."""

import json

import numpy as np
from PIL import Image

from clvae import cli
from clvae.eval import compare
from clvae.eval.cli import EXIT_SKIPPED

SMALL = ["--masks", "2", "--samples", "3", "--min-pixels", "600"]


def run(capsys, *args):
    status = cli.main(["eval", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_style_metrics_without_weights(model_files, tmp_path, capsys, no_default_weights):
    status, out, err = run(capsys, "--model", model_files["clvae"], *SMALL, "--metrics", "style",
                           "--out", str(tmp_path / "eval"))
    assert status == 0, err
    report = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert report["model"]["variant"] == "clvae" and report["data"]["masks"] == 2
    assert report["metrics"]["locality"]["value"] is not None and report["metrics"]["locality"]["masks"] == 2
    assert "diversity" not in report["metrics"]
    assert (tmp_path / "eval" / "metrics.md").read_text() == out
    assert "| `locality` " in out


def test_paper_metrics_with_weights(model_files, tmp_path, capsys, weights_in_env):
    status, out, err = run(capsys, "--model", model_files["clvae"], *SMALL, "--out", str(tmp_path))
    assert status == 0, err
    metrics = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    for key in ("gt_similarity", "fid", "diversity", "top1_gt_similarity", "pixel_l1", "separation_color_ratio"):
        assert metrics[key]["value"] is not None, (key, metrics[key])
    assert metrics["diversity"]["value"] > 0 and metrics["fid"]["masks"] == 2


def test_missing_weights_skip_with_a_message(model_files, capsys, no_default_weights):
    status, out, err = run(capsys, "--model", model_files["clvae"], *SMALL)
    assert status == EXIT_SKIPPED
    assert "Traceback" not in err and "CLVAE_FID_INCEPTION" in err and "lpips_v0.1_alex.pth" in err
    assert "n/a (no LPIPS weights)" in out and "| `locality` " in out

    status, out, err = run(capsys, "--model", model_files["clvae"], *SMALL, "--metrics", "paper")
    assert status == EXIT_SKIPPED and out == "" and "nothing left to measure" in err


def test_bad_weights_are_an_error(model_files, tmp_path, capsys, weights_in_env, monkeypatch):
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a weights file" * 8)
    monkeypatch.setenv("CLVAE_FID_INCEPTION", str(broken))
    status, out, err = run(capsys, "--model", model_files["clvae"], *SMALL)
    assert status == 2 and "clvae eval: error:" in err and "broken.pth" in err and "Traceback" not in err


def test_compare_side_by_side(model_files, tmp_path, capsys, no_default_weights):
    out = tmp_path / "docs" / "results.md"
    status = compare.main(["--model", f"clvae={model_files['clvae']}", "--model", f"gaugan={model_files['gaugan']}",
                           *SMALL, "--metrics", "style", "--sheet-samples", "2", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    page = out.read_text()
    assert "| metric | better | clvae | gaugan |" in page and "](results_samples.png)" in page
    assert "n/a (a gaugan model has no encoder)" in page
    models = json.loads(out.with_suffix(".json").read_text())["models"]
    assert models["gaugan"]["metrics"]["locality"]["value"] is None
    assert models["clvae"]["metrics"]["locality"]["value"] is not None
    sheet = np.asarray(Image.open(tmp_path / "docs" / "results_samples.png"))
    assert sheet.shape == (2 * 64 + 4, 96 + 4 * 64 + 3 * 4, 3)  # 2 rows; a caption, then 4 tiles
