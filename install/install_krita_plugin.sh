#!/usr/bin/env bash
# Install clvae's Krita plugin for this user (Linux; docs/plugin.md has Windows and macOS).
#
#   bash install/install_krita_plugin.sh [--link] [--model NAME=PATH] [--endpoint ADDRESS] [--systemd]
#
# - copies plugin/clvae_krita (its protocol/client links resolved into real files) and
#   clvae_krita.desktop into Krita's pykrita folder (--link: a symlink to this checkout,
#   for plugin development);
# - enables the plugin in kritarc and stores the daemon's address and start command there
#   (the docker's "Start daemon" button runs that command);
# - writes the model's class palette as a Krita palette (.kpl) when a model is given or
#   the bundled one is installed (the docker also does so when it connects);
# - checks that the Python Krita embeds (the system's python3) has pyzmq and msgpack;
# - --systemd: installs a user unit that keeps clvae-daemon running.
#
# KRITA_DATA (default ~/.local/share/krita) and KRITARC (default ~/.config/kritarc) move
# the targets, e.g. for a test HOME. Run it again at any time; it replaces what it wrote.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KRITA_DATA="${KRITA_DATA:-$HOME/.local/share/krita}"
KRITARC="${KRITARC:-$HOME/.config/kritarc}"
SYSTEM_PYTHON="${SYSTEM_PYTHON:-/usr/bin/python3}"
PLUGIN=clvae_krita
ENDPOINT="tcp://127.0.0.1:5577"
MODEL=""
LINK=0
SYSTEMD=0

step() { printf '==> %s\n' "$*"; }
fail() { printf 'install_krita_plugin.sh: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --link) LINK=1 ;;
    --model) MODEL="${2:?--model needs NAME=PATH}"; shift ;;
    --endpoint) ENDPOINT="${2:?--endpoint needs an address}"; shift ;;
    --systemd) SYSTEMD=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
  shift
done

[ -x "$SYSTEM_PYTHON" ] || fail "$SYSTEM_PYTHON not found: Krita's Python plugins need the system Python 3"

# ---- the plugin files -------------------------------------------------------------------
PYKRITA="$KRITA_DATA/pykrita"
mkdir -p "$PYKRITA"
rm -rf "${PYKRITA:?}/$PLUGIN" "$PYKRITA/$PLUGIN.desktop"
if [ "$LINK" -eq 1 ]; then
  step "linking $PYKRITA/$PLUGIN -> $ROOT/plugin/$PLUGIN"
  ln -s "$ROOT/plugin/$PLUGIN" "$PYKRITA/$PLUGIN"
else
  step "copying the plugin into $PYKRITA"
  cp -rL "$ROOT/plugin/$PLUGIN" "$PYKRITA/$PLUGIN"  # -L: protocol.py and client.py become real files
  find "$PYKRITA/$PLUGIN" -name __pycache__ -prune -exec rm -rf {} +
fi
cp "$ROOT/plugin/$PLUGIN.desktop" "$PYKRITA/"

# ---- the daemon's command ---------------------------------------------------------------
DAEMON="$ROOT/.venv/bin/clvae-daemon"
DAEMON_COMMAND=""
if [ -x "$DAEMON" ]; then
  DAEMON_COMMAND="$DAEMON --endpoint $ENDPOINT${MODEL:+ --model $MODEL}"
else
  printf 'note: %s is missing (run install/setup.sh first); the docker cannot start the daemon itself\n' "$DAEMON"
fi

# ---- kritarc ----------------------------------------------------------------------------
step "enabling the plugin in $KRITARC"
mkdir -p "$(dirname "$KRITARC")"
"$SYSTEM_PYTHON" - "$KRITARC" "$PLUGIN" "$ENDPOINT" "$DAEMON_COMMAND" <<'EOF'
"""Set keys in kritarc line by line (KConfig syntax; every other line stays as it is)."""
import sys
from pathlib import Path

path, plugin, endpoint, command = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lines = path.read_text().splitlines() if path.exists() else []


def set_key(section, key, value):
    header = f"[{section}]"
    if header not in lines:
        lines.extend(["", header] if lines else [header])
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    for i in range(start, end):
        if lines[i].split("=", 1)[0].strip() == key:
            lines[i] = f"{key}={value}"
            return
    while end > start and not lines[end - 1].strip():
        end -= 1
    lines.insert(end, f"{key}={value}")


set_key("python", f"enable_{plugin}", "true")
set_key("clvae", "endpoint", endpoint)
if command:
    set_key("clvae", "daemon_command", command)
path.write_text("\n".join(lines) + "\n")
EOF

# ---- pyzmq and msgpack in Krita's Python ------------------------------------------------
if "$SYSTEM_PYTHON" -c "import zmq, msgpack" 2>/dev/null; then
  step "Krita's Python has pyzmq $("$SYSTEM_PYTHON" -c 'import zmq; print(zmq.__version__)') and msgpack"
else
  cat >&2 <<EOF
warning: $SYSTEM_PYTHON (the Python Krita embeds) lacks pyzmq or msgpack. Install them:
    Debian/Ubuntu:  sudo apt-get install python3-zmq python3-msgpack
    Fedora:         sudo dnf install python3-zmq python3-msgpack
    Arch:           sudo pacman -S python-pyzmq python-msgpack
The plugin does not start without them.
EOF
fi

# ---- the class palette ------------------------------------------------------------------
BUNDLED="$ROOT/clvae/assets/procedural.safetensors"
MODEL_PATH="${MODEL#*=}"
[ -n "$MODEL_PATH" ] || MODEL_PATH="$BUNDLED"
if [ -f "$MODEL_PATH" ] && [ -x "$ROOT/.venv/bin/clvae" ]; then
  NAME="${MODEL%%=*}"  # the name the daemon serves it under: NAME=PATH's NAME, else the file name's stem
  if [ -z "$MODEL" ] || [ "$NAME" = "$MODEL" ]; then
    NAME="$(basename "$MODEL_PATH")"
    NAME="${NAME%%.*}"
  fi
  INFO="$(mktemp)"
  trap 'rm -f "$INFO"' EXIT
  "$ROOT/.venv/bin/clvae" info --model "$MODEL_PATH" --json > "$INFO"
  PALETTE_FILE="$(PYTHONPATH="$ROOT/plugin" "$SYSTEM_PYTHON" -m clvae_krita.kpl "$INFO" "$NAME" "$KRITA_DATA/palettes")"
  step "wrote the palette of model $NAME to $PALETTE_FILE"
else
  printf 'note: no model to take a palette from yet; the docker installs it when it connects\n'
fi

# ---- systemd --------------------------------------------------------------------------------
if [ "$SYSTEMD" -eq 1 ]; then
  [ -n "$DAEMON_COMMAND" ] || fail "--systemd needs $DAEMON (run install/setup.sh first)"
  UNIT_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"
  mkdir -p "$UNIT_DIR"
  sed "s|@DAEMON_COMMAND@|$DAEMON_COMMAND|" "$ROOT/install/clvae-daemon.service" > "$UNIT_DIR/clvae-daemon.service"
  step "installed $UNIT_DIR/clvae-daemon.service; start it with: systemctl --user enable --now clvae-daemon"
fi

step "done. Start the daemon with:"
printf '    %s\n' "${DAEMON_COMMAND:-clvae-daemon --endpoint $ENDPOINT --model NAME=PATH}"
printf 'then restart Krita and open Settings > Dockers > Semantic Synthesis.\n'
