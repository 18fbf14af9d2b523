"""Label-by-selection speed. Target: probe refit on cached features with 1k labels in <= 1 s.

Features: 70,000 Fashion-MNIST images as 512-d vectors (pixels through a fixed random
projection, the width of a ResNet-18 embedding). 1,000 labelled (100 per class);
the refit fits the linear probe and predicts class and confidence for all 70k, as
the Fine-tune page does after each labelling. Also times "label these next"
(uncertainty shortlist plus k-centre) and reports the probe's accuracy on the rest.
"""
import time

import numpy as np
from _common import report
from projection import fashion_pixels


def main() -> None:
    from sslstudio.core.evaluation.active import fit_probe, suggest
    from sslstudio.core.evaluation.label_efficiency import holdout

    pixels, labels = fashion_pixels()
    features = pixels @ np.random.default_rng(0).normal(size=(pixels.shape[1], 512)).astype(np.float32)
    pools, _ = holdout(labels, seed=0)
    labelled = np.sort(np.concatenate([pool[:100] for pool in pools.values()]))
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        fit = fit_probe(features, labelled, labels[labelled])
        timings.append(time.perf_counter() - t0)
    rest = np.setdiff1d(np.arange(len(labels)), labelled)
    accuracy = float((fit.predicted[rest] == labels[rest]).mean())
    t0 = time.perf_counter()
    picked = suggest(features, labelled, labels[labelled], count=24)
    suggest_s = time.perf_counter() - t0
    refit = min(timings)
    print(f"refit with {len(labelled)} labels over {len(labels)} samples: best {refit:.2f} s of 3 "
          f"(first {timings[0]:.2f} s); accuracy on the rest {accuracy:.3f}; {len(picked)} suggestions in "
          f"{suggest_s:.2f} s")
    report("probe_refit", "probe refit with 1k labels <= 1 s", refit <= 1.0, refit_s=round(refit, 3),
           first_refit_s=round(timings[0], 3), suggest_s=round(suggest_s, 3), labelled=len(labelled),
           samples=len(labels), accuracy_rest=round(accuracy, 3))


if __name__ == "__main__":
    main()
