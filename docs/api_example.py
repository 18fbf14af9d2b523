"""sslstudio from a script or a notebook: pretrain on a folder, look at what it learned, probe it, export it.

    python docs/api_example.py [FOLDER] [--minutes 2] [--out DIR]

FOLDER defaults to the bundled demo images (Fashion-MNIST, ten class folders). Each cell below is what a
notebook would hold; the tests run this file on a small folder.
"""
import argparse
from pathlib import Path

import numpy as np

import sslstudio
from sslstudio.resources import demo_folder

parser = argparse.ArgumentParser()
parser.add_argument("folder", nargs="?", default=str(demo_folder("image")))
parser.add_argument("--minutes", type=float, default=2.0)
parser.add_argument("--steps", type=int, help="stop after this many steps instead (a quick check)")
parser.add_argument("--out", default="api-example")
args = parser.parse_args()
out = Path(args.out)

# 1. The folder, decoded once into the sample store (a second call reads the store).
samples = sslstudio.open_folder(args.folder, progress=True)
print(f"{len(samples)} {samples.modality} samples in {len(samples.classes)} classes; skipped {len(samples.skipped)}")
for note in samples.notes:
    print("  " + note)

# 2. Pretrain: rotation prediction, bounded by time (or steps). The run folder opens in the workbench too.
run = sslstudio.train(samples, task="rotation", out=out / "run", minutes=args.minutes, steps=args.steps,
                      batch_size=32, progress=True)
print(f"trained {run.task} for {run.result.step} steps ({run.result.reason})")

# 3. Embeddings: one row per sample, in samples.ids order; nearest neighbours by cosine similarity.
vectors = run.embed(samples)
unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
nearest = np.argsort(-unit @ unit[0])[1:4]
print(f"embeddings {vectors.shape}; nearest to {samples.ids[0]}: " + ", ".join(samples.ids[i] for i in nearest))

# 4. What pretraining bought: a linear probe with 5 labels per class, beside both baselines.
report = run.probe(samples, per_class=5)
print(f"probe accuracy {report.accuracy:.3f} (untrained network {report.baselines['random_init']:.3f}, "
      f"raw inputs {report.baselines['raw']:.3f})")

# 5. A model to use elsewhere: ONNX with the preprocessing and the probe head inside, checked against the app.
exported = run.export("onnx", out / "model.onnx", labelled=samples)
print(f"wrote {exported.path}: top-1 agreement with the app {exported.parity['top1_agreement']:.0%}")
