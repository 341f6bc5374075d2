#!/usr/bin/env bash
# Build dist/clvae_krita.zip for Krita's Tools > Scripts > Import Python Plugin from File:
# clvae_krita.desktop and clvae_krita/ at the top, the protocol/client links resolved into
# real files, no caches. Prints the zip's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/dist/clvae_krita.zip}"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

cp -rL "$ROOT/plugin/clvae_krita" "$STAGE/clvae_krita"
cp "$ROOT/plugin/clvae_krita.desktop" "$STAGE/"
find "$STAGE" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
(cd "$STAGE" && zip -qrX "$OUT" clvae_krita.desktop clvae_krita)
echo "$OUT"
