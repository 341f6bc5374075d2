"""Retake docs/images/plugin_{labels,generate,reroll,style}.png from the real Krita under
Xvfb with the bundled model, painting examples/village_labels.png (scaled to 512 x 512,
nearest) as the label layer and using examples/houses_{labels,reference}.png as the style
reference document.

    python -m tests.e2e.screenshots [--out docs/images] [--width 1200] [--device cpu]

It runs tests/e2e/driver's "first" scenario unchanged, through a tiny extra plugin written
into the throw-away HOME that swaps the driver's synthetic label rows and reference picture
for the example pictures before the scenario starts. Only processes started here are
signalled.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from daemon.launch import free_port, start_daemon
from tests.e2e.krita_session import ROOT, Xvfb, copy_home, install_driver, install_plugin, run_krita

BUNDLED = ROOT / "clvae/assets/procedural.safetensors"
EXAMPLES = ROOT / "examples"
SHOTS = ("plugin_labels", "plugin_generate", "plugin_reroll", "plugin_style")
SIZE = 512
PLUGIN = "clvae_shots"

SHIM = '''"""Swaps the e2e driver's pictures for the example ones (tests/e2e/screenshots.py)."""
import os
from pathlib import Path

import clvae_e2e_driver as driver

OUT = Path(os.environ["CLVAE_E2E_OUT"])
_new_document = driver.new_document


def new_document(name, width, height, layers):
    if name == "scene":
        layers = [("labels", (OUT / "scene_labels.bgra").read_bytes())]
    elif name == "reference":
        width = height = 256
        layers = [("photo", (OUT / "ref_photo.bgra").read_bytes()), ("labels", (OUT / "ref_labels.bgra").read_bytes())]
    return _new_document(name, width, height, layers)


driver.new_document = new_document
'''

DESKTOP = f"""[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library={PLUGIN}
X-Python-2-Compatible=false
Name=clvae screenshots
Comment=Example pictures for the e2e driver's screenshots
"""


def bgra(path: Path, size: int) -> bytes:
    image = Image.open(path).convert("RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.NEAREST)
    rgb = np.asarray(image)
    alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([rgb[..., ::-1], alpha], axis=2).tobytes()


def install_shim(home: Path) -> None:
    pykrita = home / ".local/share/krita/pykrita"
    (pykrita / PLUGIN).mkdir(parents=True, exist_ok=True)
    (pykrita / PLUGIN / "__init__.py").write_text(SHIM)
    (pykrita / f"{PLUGIN}.desktop").write_text(DESKTOP)
    kritarc = home / ".config/kritarc"
    # the shim imports the driver (which registers itself); Krita itself loads only the shim
    kritarc.write_text(kritarc.read_text().replace("enable_clvae_e2e_driver=true", f"enable_{PLUGIN}=true"))


def save(shot: Path, target: Path, width: int) -> None:
    image = Image.open(shot).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.save(target, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--deadline", type=float, default=150.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="clvae-shots-"))
    screen = Xvfb(work / "xvfb.log")
    child = None
    try:
        prepared = work / "prepared-home"
        install_driver(prepared)
        run = run_krita(prepared, screen.display, "prepare", work / "prepare", 90.0)
        assert run.log["finished"], (run.log, run.krita_output())

        endpoint = f"tcp://127.0.0.1:{free_port()}"
        model = f"procedural={BUNDLED}"
        child = start_daemon(["--model", model, "--endpoint", endpoint, "--device", args.device], endpoint,
                             work / "daemon.log")
        home = copy_home(prepared, work / "home-first")
        installed = install_plugin(home, endpoint, model)
        assert installed.returncode == 0, installed.stderr
        install_shim(home)

        out = work / "first"
        out.mkdir()
        (out / "scene_labels.bgra").write_bytes(bgra(EXAMPLES / "village_labels.png", SIZE))
        (out / "ref_labels.bgra").write_bytes(bgra(EXAMPLES / "houses_labels.png", 256))
        (out / "ref_photo.bgra").write_bytes(bgra(EXAMPLES / "houses_reference.png", 256))
        run = run_krita(home, screen.display, "first", out, args.deadline)
        assert not run.log["errors"] and run.log["finished"], (run.log["errors"], run.krita_output())
        args.out.mkdir(parents=True, exist_ok=True)
        for name in SHOTS:
            save(out / "shots" / f"{name}.png", args.out / f"{name}.png", args.width)
            print(args.out / f"{name}.png")
    finally:
        if child is not None:
            child.stop()
        screen.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
