"""The commands that read a trained run: embed, probe, curve and export (the others are in commands.py)."""
from __future__ import annotations

from sslstudio.cli.commands import _emit_json, _report_skipped, _writable_folder_for
from sslstudio.cli.options import settings_from
from sslstudio.cli.progress import ProgressReport, say
from sslstudio.core.evaluation.settings import CurveSettings, ProbeSettings
from sslstudio.core.export_settings import ExportSettings


# ------------------------------------------------------------------ embed
def cmd_embed(args) -> int:
    from sslstudio.core.embeddings.cache import embed_folder
    from sslstudio.core.embeddings.projection import project
    from sslstudio.core.embeddings.table import format_for, write_embeddings

    _writable_folder_for(args.out)
    fmt = format_for(args.out, args.format)
    samples, embedded = embed_folder(args.run, args.folder, args.checkpoint, args.device,
                                     progress=ProgressReport("embedding", "samples"),
                                     decode_progress=ProgressReport("decoding"))
    _report_skipped(samples)
    vectors = embedded.vectors
    projection = project(vectors, args.map) if args.map else None
    if projection is not None and projection.note:
        say(projection.note)
    write_embeddings(args.out, vectors, samples.ids, args.folder, samples.labels,
                     projection.coords if projection else None, fmt)
    if args.tensorboard:
        from sslstudio.core.training.tensorboard import write_projector

        write_projector(args.tensorboard, vectors, samples.ids, samples.labels, samples)
        say(f"projector files in {args.tensorboard}: tensorboard --logdir {args.tensorboard}, then Projector")
    summary = {"out": str(args.out), "format": fmt, "samples": len(samples), "dim": int(vectors.shape[1]),
               "labelled": samples.has_labels, "skipped": len(samples.bad), "map": args.map,
               "tensorboard": args.tensorboard}
    if args.json:
        _emit_json(summary)
    else:
        say(f"wrote {args.out} ({fmt}): {len(samples)} x {vectors.shape[1]} embeddings"
            + (f" with their {args.map} map" if args.map else ""))
    return 0


# ------------------------------------------------------------------ probe
def _run_and_labels(args):
    """The run (at --checkpoint) and the --labelled samples decoded as it reads them; skipped files said."""
    from sslstudio.core.data.labels import load_labelled
    from sslstudio.core.training.session import load_run

    run = load_run(args.run, args.checkpoint)
    samples = load_labelled(args.labelled, run.modality, run.pipeline.spec, ProgressReport("decoding"))
    _report_skipped(samples)
    return run, samples


def cmd_probe(args) -> int:
    from sslstudio.core.evaluation.probe import probe

    chosen = settings_from(args, ProbeSettings)
    run, samples = _run_and_labels(args)
    result = probe(run, samples, chosen.per_class, chosen.method, chosen.seed, chosen.baselines, args.device,
                   chosen.max_samples, ProgressReport("embedding", "samples"))
    if result["note"]:
        say(f"note: {result['note']}")
    if args.json:
        _emit_json(result)
        return 0
    print(f"{chosen.method} probe, {chosen.per_class} labels per class: accuracy {result['accuracy']:.3f} "
          f"(train {result['n_train']}, test {result['n_test']})")
    for name, value in result.get("baselines", {}).items():
        print(f"  baseline {name}: {value:.3f}")
    return 0


# ------------------------------------------------------------------- curve
def cmd_curve(args) -> int:
    from sslstudio.core.evaluation.features import feature_sets
    from sslstudio.core.evaluation.session import evaluate_labels

    chosen = settings_from(args, CurveSettings)
    run, samples = _run_and_labels(args)
    features = feature_sets(run, samples, args.device, chosen.seeds[0])
    _, curve, _ = evaluate_labels((run, samples, features), {}, chosen, ProgressReport("embedding", "samples"),
                                  with_errors=False, device=args.device)
    if curve.note():
        say(f"note: {curve.note()}")
    if args.json:
        _emit_json(curve.to_dict())
        return 0
    print(f"{chosen.method} probe, mean ± std over seeds {curve.seeds}, {curve.n_test} test samples")
    print("labels/class" + "".join(f"{name:>18s}" for name in curve.mean))
    for j, k in enumerate(curve.shots):
        cells = "".join(f"{curve.mean[n][j]:>9.3f} ± {curve.std[n][j]:.3f}" for n in curve.mean)
        print(f"{'all' if k == 0 else k:>12} {cells}")
    return 0


# ------------------------------------------------------------------ export
def cmd_export(args) -> int:
    import numpy as np

    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.data.labels import load_labelled
    from sslstudio.core.export import export_with_probe
    from sslstudio.core.training.session import load_run

    _writable_folder_for(args.out)
    wanted = settings_from(args, ExportSettings)
    run = load_run(args.run, args.checkpoint)
    if args.labelled:
        samples = load_labelled(args.labelled, run.modality, run.pipeline.spec, ProgressReport("decoding"))
        labels = np.array([label or "" for label in samples.labels])
    else:
        folder = args.folder or run.config["data"]["folder"]
        samples = load_folder(folder, run.modality, labels="none", spec=run.pipeline.spec,
                              progress=ProgressReport("decoding"))
        labels = None
    report, head = export_with_probe(run, args.out, wanted, samples, labels,
                                     progress=ProgressReport("embedding for the head", "samples"))
    summary = {"out": str(args.out), "format": wanted.format, "checkpoint": run.checkpoint.name,
               "classes": head.classes if head else None, "parity": report.to_dict() if report else None}
    if args.json:
        _emit_json(summary)
    elif report is None:
        print(f"wrote {args.out}: the backbone's state_dict ({run.config['backbone']})")
    else:
        print(f"wrote {args.out} ({wanted.format}"
              + (f", with a {len(head.classes)}-class head" if head else "") + f"): checked on {report.samples} "
              f"samples, embeddings max abs difference {report.max_abs_diff:.1e}, "
              f"{report.agreement_text()}")
    return 0
