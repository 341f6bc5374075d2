"""The plugin package as Krita loads it: every module compiles, imports only what Krita's
Python has (PyQt5, krita, pyzmq, msgpack, the standard library), and the installer's and
the zip's copies are self-contained."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.plugin import PLUGIN_DIR

PACKAGE = PLUGIN_DIR / "clvae_krita"
ROOT = PLUGIN_DIR.parent
ALLOWED = {"PyQt5", "krita", "zmq", "msgpack"} | set(sys.stdlib_module_names)
MODULES = sorted(PACKAGE.glob("*.py"))


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_module_uses_only_what_krita_has(module):
    assert imported_roots(module) <= ALLOWED, imported_roots(module) - ALLOWED


def test_manual_and_desktop_file_are_there():
    desktop = (PLUGIN_DIR / "clvae_krita.desktop").read_text()
    assert "X-KDE-Library=clvae_krita" in desktop and "ServiceTypes=Krita/PythonPlugin" in desktop
    assert "<html" in (PACKAGE / "Manual.html").read_text().lower()


def test_plugin_zip_is_self_contained(tmp_path):
    out = subprocess.run(["bash", str(ROOT / "install/build_plugin_zip.sh"), str(tmp_path / "p.zip")],
                         capture_output=True, text=True, check=True).stdout.strip()
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        assert {"clvae_krita.desktop", "clvae_krita/protocol.py", "clvae_krita/client.py",
                "clvae_krita/Manual.html"} <= names
        assert b"PROTOCOL_VERSION" in archive.read("clvae_krita/protocol.py")
        assert not any("__pycache__" in name for name in names)


@pytest.mark.skipif(not Path("/usr/bin/python3").is_file(), reason="the installer needs the system Python (Krita's)")
def test_installer_copies_resolves_links_and_enables(tmp_path):
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["bash", str(ROOT / "install/install_krita_plugin.sh"), "--endpoint",
                             "tcp://127.0.0.1:5999"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    installed = tmp_path / ".local/share/krita/pykrita"
    assert (installed / "clvae_krita.desktop").is_file()
    assert not (installed / "clvae_krita/protocol.py").is_symlink()
    kritarc = (tmp_path / ".config/kritarc").read_text()
    assert "[python]\nenable_clvae_krita=true" in kritarc and "endpoint=tcp://127.0.0.1:5999" in kritarc
    again = subprocess.run(["bash", str(ROOT / "install/install_krita_plugin.sh")], env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0 and (tmp_path / ".config/kritarc").read_text().count("enable_clvae_krita") == 1
