#!/usr/bin/env bash
# The book's CI check: Colab cells in line with _config.yml, a strict Jupyter Book build
# (warnings are errors), then every page opened in headless Chromium (book/check_rendered.py),
# with screenshots left in _build/screenshots/.
#
#   bash book/ci.sh            # render the outputs stored in the committed notebooks
#   bash book/ci.sh --execute  # first re-execute every chapter (papermill) into _build/ci
#
# The notebooks' outputs are compared with a fresh run by nbval in the test suite, so the
# default renders what is committed; --execute also exercises the papermill path end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python}"

if ! command -v chromium > /dev/null; then
    if [ "${CI:-}" = "true" ] && command -v apt-get > /dev/null; then
        # bounded, like every wait of the CI run: a stalled mirror fails the run, not its clock
        timeout 900 apt-get update -qq
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq chromium
    else
        echo "error: chromium not found; install it with: apt-get update && apt-get install -y chromium" >&2
        exit 2
    fi
fi

"$python" book/colab.py --check
case "${1:-}" in
    --execute)
        "$python" book/build.py --strict --out _build/ci
        html=_build/ci/_build/html ;;
    "")
        "$python" book/build.py --no-execute --strict
        html=_build/html ;;
    *)
        echo "usage: bash book/ci.sh [--execute]" >&2
        exit 2 ;;
esac
"$python" book/check_rendered.py --html "$html" --screenshots _build/screenshots
