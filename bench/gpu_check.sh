#!/usr/bin/env bash
# One run on a CUDA machine, under 8 minutes: rotation (and SimCLR once it exists) on a 10k-image
# Fashion-MNIST subset at 32 px, ResNet-18 (CIFAR stem), CUDA + AMP + channels_last.
# Prints samples/s, peak GPU memory and data-wait share per task.
#
# The GPU machine has torch but no network: build the subset beforehand on a machine that has one,
#   bench/gpu_check.sh --prepare         (writes bench/out/data/fashion_1000)
# then carry bench/out/data/fashion_1000 along and run bench/gpu_check.sh there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" bench/gpu_check.py "$@"
