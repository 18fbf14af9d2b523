#!/usr/bin/env bash
# One run on a CUDA machine, under 8 minutes: SimCLR (and DINO once it exists) with ResNet-50 at 224 px on
# 20k generated 256-px JPEGs, CUDA + AMP + channels_last; the real input pipeline against synthetic on-device
# batches. Prints images/s, their ratio, data-wait share and peak GPU memory per task. Makes its own data:
# the GPU machine needs no network. `bench/gpu_check.sh --smoke` checks the script on a CPU.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" bench/gpu_check.py "$@"
