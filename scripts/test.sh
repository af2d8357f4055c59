#!/usr/bin/env bash
# Installs what the tests need, then runs the whole suite with Swift Testing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift test --disable-xctest "$@"
