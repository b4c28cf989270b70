#!/usr/bin/env bash
# Install what is missing (test tools, Debian's chromium, Chinese fonts),
# then run the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. bash scripts/test.sh -m "not browser"
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$PROJECT_DIR/scripts/install.sh" --test
cd "$PROJECT_DIR"

status=0
.venv/bin/python -m pytest -q "$@" || status=$?
# pytest exits 5 when it collected no tests: a suite that ran nothing has
# not passed, so say so (the status stays non-zero).
if [[ $status -eq 5 ]]; then
  echo "[test] error: no tests were collected" >&2
fi
exit "$status"
