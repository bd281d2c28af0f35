#!/usr/bin/env bash
# Set up a local virtual environment (once) and run the demo or the test suite.
#   ./run.sh demo   - install mxcy into .venv and run examples/demo.py
#   ./run.sh test   - install mxcy into .venv and run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$PWD/.numba_cache}"
case "${1:-test}" in
    demo) exec .venv/bin/python examples/demo.py ;;
    # Two pytest workers, one per core of the CI machine; `-n 0` on the command line runs in one process.
    test) shift || true; exec .venv/bin/python -m pytest -q -n 2 "$@" ;;
    *) echo "usage: ./run.sh demo|test [pytest args]" >&2; exit 2 ;;
esac
