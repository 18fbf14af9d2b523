#!/usr/bin/env bash
# The GPU recipes, measured: each modality's candidate tasks at the GPU budget on one CUDA GPU, one seed, batch
# 256; the best becomes the modality's gpu recipe in resources/recipes.json (--write-recipes). At the recipes'
# 10 minutes this needs about 80 minutes of GPU time; MINUTES=1 fits a 15-minute lease (the figures then say
# 1 min). Needs the developers' data sets built on the machine (bench/out/data) and no network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
MINUTES=${MINUTES:-10}
run() {
  "$PYTHON" bench/leaderboard.py --device cuda --batch-size 256 --minutes "$MINUTES" --seeds 0 --write-recipes \
    --out "bench/out/gpu-recipes-$1.md" --modality "$@"
}
run image --tasks simclr dino vicreg mae
run audio --tasks masked_spectrogram audio_mae audio_denoising
run text --tasks word_context mlm
