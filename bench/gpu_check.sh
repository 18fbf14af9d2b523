#!/usr/bin/env bash
# One run on a CUDA machine, under 8 minutes: rotation on a 10k-image Fashion-MNIST subset at 32 px,
# ResNet-18 (CIFAR stem), CUDA + AMP + channels_last. Prints samples/s, peak GPU memory and data-wait share.
# Usage: bench/gpu_check.sh [FASHION_10K_FOLDER]   (default: built with the shared recipe)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-.venv/bin/python}
exec "$PY" bench/gpu_check.py "$@"
