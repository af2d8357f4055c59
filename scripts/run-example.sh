#!/usr/bin/env bash
# Installs what Tessera needs, builds it optimised, and runs the main example with its reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift run -c release tessera run matvec --report reports/matvec "$@"
