#!/usr/bin/env bash
# Installs what Tessera needs, builds it optimised, and runs the main job: ResNet-50 (batch 8,
# 224 × 224, float32) on a simulated Mk2 IPU, with its reports in reports/resnet50/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift run -c release tessera run resnet50 --batch 8 --report reports/resnet50 "$@"
