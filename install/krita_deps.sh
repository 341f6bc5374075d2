#!/usr/bin/env bash
# Debian/Ubuntu packages for the real-Krita end-to-end tests (and for using the plugin):
# Krita, a virtual X screen, and pyzmq + msgpack for Krita's embedded Python.
# Needs root; does nothing when everything is already there.
set -euo pipefail
packages=(krita xvfb python3-pyqt5 python3-sip python3-zmq python3-msgpack)
if command -v krita >/dev/null && command -v Xvfb >/dev/null && /usr/bin/python3 -c 'import zmq, msgpack' 2>/dev/null; then
  echo "==> krita, Xvfb, python3-zmq and python3-msgpack are installed"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "krita_deps.sh: run as root (apt-get install ${packages[*]})" >&2; exit 1; }
echo "==> installing ${packages[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
