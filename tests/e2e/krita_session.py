"""A real Krita under Xvfb for end-to-end tests (see /shared/krita-headless.md's recipe):
an Xvfb on a display number it picks itself, a throw-away HOME prepared once (Krita's first
start builds its resource database) and copied per run, runs bounded by ``timeout``. Only
processes started here are ever signalled, by their pid."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "driver"
DRIVER_NAME = "clvae_e2e_driver"
SCREEN = "1600x1200x24"
XVFB_START_TIMEOUT = 10.0


def missing_tools() -> Optional[str]:
    """Why a real Krita cannot run here, or None."""
    absent = [tool for tool in ("krita", "Xvfb", "timeout") if shutil.which(tool) is None]
    if absent:
        return (f"{', '.join(absent)} not installed (Debian: apt-get install krita xvfb python3-pyqt5 "
                "python3-zmq python3-msgpack)")
    if subprocess.run(["/usr/bin/python3", "-c", "import zmq, msgpack"], capture_output=True).returncode != 0:
        return "the system Python (Krita's) lacks pyzmq or msgpack (apt-get install python3-zmq python3-msgpack)"
    return None


class Xvfb:
    """A virtual X screen; ``display`` is e.g. ":5"."""

    def __init__(self, log_path: Path) -> None:
        read, write = os.pipe()
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", SCREEN, "-noreset",
                                             "-nolisten", "tcp"], pass_fds=(write,), stdout=log, stderr=log)
        os.close(write)
        self.display = ":" + self._read_display(read)

    def _read_display(self, read: int) -> str:
        deadline = time.monotonic() + XVFB_START_TIMEOUT
        text = b""
        with os.fdopen(read, "rb", buffering=0) as pipe:
            while not text.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(16)
                if not chunk:
                    break
                text += chunk
        if not text.strip():
            self.stop()
            raise RuntimeError("Xvfb did not report a display number")
        return text.decode().strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class KritaRun:
    returncode: int
    out: Path
    seconds: float

    @property
    def log(self) -> dict:
        path = self.out / "log.json"
        return json.loads(path.read_text()) if path.is_file() else {"errors": ["the driver wrote no log"]}

    def krita_output(self) -> str:
        return (self.out / "krita.log").read_text(errors="replace")[-6000:]


def install_driver(home: Path) -> None:
    pykrita = home / ".local/share/krita/pykrita"
    pykrita.mkdir(parents=True, exist_ok=True)
    shutil.copytree(DRIVER / DRIVER_NAME, pykrita / DRIVER_NAME, dirs_exist_ok=True)
    shutil.copy(DRIVER / f"{DRIVER_NAME}.desktop", pykrita)
    kritarc = home / ".config/kritarc"
    kritarc.parent.mkdir(parents=True, exist_ok=True)
    kritarc.write_text(f"[python]\nenable_{DRIVER_NAME}=true\n")


def install_plugin(home: Path, endpoint: str, model: str) -> subprocess.CompletedProcess:
    """The plugin, as the installer puts it into a user's HOME."""
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.run(["bash", str(ROOT / "install/install_krita_plugin.sh"), "--endpoint", endpoint, "--model",
                           model], env=env, capture_output=True, text=True, timeout=120)


def krita_environment(home: Path, display: str) -> dict[str, str]:
    """The environment of a user's desktop session: no virtualenv (Krita's embedded Python
    would take the first ``python3`` on PATH as its home and miss PyQt5) and no XDG overrides."""
    env = {name: value for name, value in os.environ.items()
           if name not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH", "XDG_CONFIG_HOME", "XDG_DATA_HOME",
                           "WAYLAND_DISPLAY")}
    env["PATH"] = os.pathsep.join(folder for folder in env.get("PATH", "").split(os.pathsep)
                                  if folder and not (Path(folder).parent / "pyvenv.cfg").is_file())
    env.update(HOME=str(home), DISPLAY=display, XDG_RUNTIME_DIR=str(home / "run"))
    return env


def run_krita(home: Path, display: str, scenario: str, out: Path, deadline: float) -> KritaRun:
    """Krita with the driver's ``scenario``; killed ``deadline`` + 15 s after its start at the latest."""
    out.mkdir(parents=True, exist_ok=True)
    env = {**krita_environment(home, display), "CLVAE_E2E_OUT": str(out), "CLVAE_E2E_SCENARIO": scenario,
           "CLVAE_E2E_DEADLINE": str(deadline)}
    (home / "run").mkdir(mode=0o700, exist_ok=True)
    started = time.monotonic()
    with open(out / "krita.log", "wb") as log:
        process = subprocess.Popen(["timeout", "-k", "5", str(int(deadline + 10)), "krita", "--nosplash"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            returncode = process.wait(deadline + 20)
        except subprocess.TimeoutExpired:
            process.kill()
            returncode = process.wait()
    return KritaRun(returncode, out, time.monotonic() - started)


def copy_home(prepared: Path, target: Path) -> Path:
    shutil.copytree(prepared, target, symlinks=True)
    return target
