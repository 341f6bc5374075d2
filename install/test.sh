#!/usr/bin/env bash
# The test command (README and CI both run it): pytest with the project's .venv.
# Arguments go to pytest. Collecting no test at all is a failure, not a pass.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

[ -x .venv/bin/python ] || { echo "test.sh: no .venv here; run: bash install/setup.sh" >&2; exit 1; }

.venv/bin/python -m pytest -q "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; failing (exit 5 means nothing was tested)" >&2
  exit 1
fi
exit "$status"
