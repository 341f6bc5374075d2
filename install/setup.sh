#!/usr/bin/env bash
# Set clvae up from a fresh clone: .venv, torch, then the package (editable, dev extras).
# Idempotent: run it again at any time. Override the torch install with CLVAE_TORCH_SPEC,
# e.g. CLVAE_TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${CLVAE_TORCH_SPEC:-torch==2.13.0}"

step() { printf '==> %s\n' "$*"; }
fail() { printf 'setup.sh: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || fail "$PYTHON not found; install Python 3.10 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || fail "clvae needs Python >= 3.10, $PYTHON is $("$PYTHON" -V 2>&1)"

if [ -x .venv/bin/python ]; then
  step "using the existing .venv"
else
  step "creating .venv with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv .venv || fail "python venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
fi

# torch first, so that pinning the build (CPU or CUDA) is ours, not the resolver's.
step "installing $TORCH_SPEC"
# shellcheck disable=SC2086  # the spec may carry pip options
.venv/bin/python -m pip install -q $TORCH_SPEC

step "installing clvae (editable) with its dev extras"
.venv/bin/python -m pip install -q -e ".[dev]"

step "ready: torch $(.venv/bin/python -c 'import torch; print(torch.__version__)'); tests: bash install/test.sh"
