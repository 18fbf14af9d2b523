"""One function per CLI command, each a thin layer over sslstudio.core."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

from sslstudio.cli.options import SETTINGS_GROUPS, given, settings_from
from sslstudio.cli.progress import ProgressReport, TrainPrinter, say
from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.errors import UserError
from sslstudio.core.io import check_writable
from sslstudio.core.preview import PreviewSettings, load_pool, preview_inputs, render_preview
from sslstudio.core.training.config import TrainConfig
from sslstudio.core.training.events import TrainingFailed
from sslstudio.core.training.run_dir import RunDir


def printable(name: str) -> str:
    """A file name as it can be shown on one line of any terminal: bytes that are not UTF-8 (kept as
    surrogates) and control characters (a newline, an ANSI escape) are written as escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"),
                        name.encode("utf-8", "backslashreplace").decode("utf-8"))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _writable_folder_for(out) -> None:
    """Fail before any work when --out cannot be written (its folder is made here if it is missing)."""
    check_writable(out, printable)


SKIPPED_SHOWN = 10  # skipped files named one per line; a folder of a million bad ones is summed up


def _report_skipped(samples_or_bad, tell=say) -> None:
    """The skipped files (up to ten, then a count), then the notes of files used with something left out."""
    bad, notes = ((samples_or_bad.bad, samples_or_bad.notes) if hasattr(samples_or_bad, "notes")
                  else (samples_or_bad, []))
    for entry in bad[:SKIPPED_SHOWN]:
        tell(f"skipped {printable(entry.path)}: {entry.reason}")
    if len(bad) > SKIPPED_SHOWN:
        tell(f"... and {len(bad) - SKIPPED_SHOWN} more skipped (--json lists every one)")
    for entry in notes[:SKIPPED_SHOWN]:
        tell(f"note {printable(entry.path)}: {entry.reason}")


def _emit_json(payload: dict) -> None:
    print(json.dumps(payload, indent=None, default=str))


def _inputs_from(args) -> dict:
    """The input settings given on the command line (the others are proposed from the folder)."""
    chosen = given(args, InputSpec)
    InputSpec.from_mapping(chosen)  # a conflict fails here, before any decoding
    return chosen


# ------------------------------------------------------------------ tasks
def cmd_tasks(args) -> int:
    from sslstudio.core.models.backbones import BACKBONES, DEFAULT_BACKBONE
    from sslstudio.core.recipes import load_recipes
    from sslstudio.core.tasks.registry import tasks_for

    described = [t.describe() for t in tasks_for(args.modality)]
    recipes = [recipe for recipe in load_recipes().values() if args.modality in (None, recipe.modality)]
    if args.json:
        backbones = {m: {"default": DEFAULT_BACKBONE[m], "choices": {n: d for n, (_, d) in b.items()}}
                     for m, b in BACKBONES.items() if args.modality in (None, m)}
        _emit_json({"tasks": described, "backbones": backbones,
                    "recipes": [{**asdict(r), "summary": r.summary(), "evidence": r.evidence()} for r in recipes]})
        return 0
    for recipe in recipes:
        print(f"recipe {recipe.name:<13} {recipe.modality:<6} {recipe.summary()}")
        print(f"{'':<27} {recipe.evidence()}")
    for task in described:
        print(f"{task['name']:<20} {task['modality']:<6} {task['family']}, {task['cost']} cost "
              f"({task['cost_means']})")
        print(f"{'':<27} {task['description']}")
        print(f"{'':<27} {task['reference']}")
        for arg in task["args"]:
            bounds = f" [{arg.get('min')}, {arg.get('max')}]" if "min" in arg else ""
            print(f"{'':<27}   {arg['name']}={arg['default']} ({arg['type']}{bounds}) {arg['help']}")
    return 0


# --------------------------------------------------------------- settings
def cmd_settings(args) -> int:
    """Every settings group as the CLI's options and the GUI's forms read it; each task's own settings
    are in `tasks --json`."""
    groups = {name: cls.schema() for name, cls in SETTINGS_GROUPS.items()}
    if args.json:
        _emit_json({"groups": groups, "task_settings": "sslstudio tasks --json, under each task's 'args'"})
        return 0
    for name, fields in groups.items():
        print(f"{name}:")
        for field in fields:
            default = field.get("none_means") if field["default"] is None else field["default"]
            print(f"  --{field['name'].replace('_', '-'):<22} {field['type']:<6} default {default}: {field['help']}")
    print("task settings: `sslstudio tasks` (--set KEY=VALUE)")
    return 0


# ------------------------------------------------------------------- scan
def cmd_scan(args) -> int:
    from sslstudio.core.data.dataset import load_folder
    from sslstudio.core.data.scan import scan_folder, summarise
    from sslstudio.core.training.session import suited_inputs

    scan = scan_folder(args.folder)
    summary = summarise(scan)
    if not args.quick and scan.counts():
        modality = scan.choose_modality(args.modality) if args.modality else scan.main_modality()
        spec, notes = suited_inputs(Path(args.folder), modality, "auto", _inputs_from(args), scan)
        samples = load_folder(args.folder, modality, spec=spec, progress=ProgressReport("decoding"), scan=scan)
        store = samples.records.store
        summary["inputs"] = {"spec": asdict(spec), "notes": notes}
        summary["store"] = {"path": str(store.path), "bytes": store.size_bytes()} if store else None
        summary["modality"] = modality
        summary["usable_samples"] = len(samples)
        summary["bad_files"] = [{"path": b.path, "reason": b.reason} for b in samples.bad]
        summary["notes"] = [{"path": b.path, "note": b.reason} for b in samples.notes]
    if args.json:
        _emit_json(summary)
        return 0
    print(f"{printable(summary['folder'])}: " + ", ".join(f"{n} {m} files" for m, n in summary["counts"].items()))
    for modality, counts in summary["labels"].items():
        print(f"  {modality} labels ({len(counts)}): " + ", ".join(f"{printable(k)}={v}" for k, v in counts.items()))
    if "usable_samples" in summary:
        print(f"  usable {summary['modality']} samples: {summary['usable_samples']}")
        for note in summary["inputs"]["notes"]:
            print(f"  {note}")
        if summary["store"]:
            from sslstudio.core.data.survey import describe_bytes

            print(f"  decoded into the sample store: {describe_bytes(summary['store']['bytes'])} in "
                  f"{summary['store']['path']}")
    others = [m for m in summary["counts"] if m != summary.get("modality")]
    if "modality" in summary and others and not args.modality:
        print(f"  mixed folder: checked its {summary['modality']} files, the most; "
              + ", ".join(f"--modality {m}" for m in others) + " checks the others")
    _report_skipped([argparse.Namespace(**bad) for bad in summary["bad_files"]], lambda line: print("  " + line))
    for note in summary.get("notes", []):
        print(f"  note {printable(note['path'])}: {note['note']}")
    return 0


# ---------------------------------------------------------------- preview
def cmd_preview(args) -> int:
    _writable_folder_for(args.out)

    from sslstudio.core.data.scan import scan_folder
    from sslstudio.core.settings import parse_assignments
    from sslstudio.core.tasks.registry import get_task
    from sslstudio.core.tasks.sheet import save_sheet
    from sslstudio.core.training.session import load_task_model, suited_inputs

    if args.checkpoint and not args.run:
        raise UserError("--checkpoint chooses the weights of --run; add --run")
    shown = settings_from(args, PreviewSettings)
    overrides = parse_assignments(args.set)
    scan = scan_folder(args.folder)
    if args.run:
        task, model, config = load_task_model(args.run, overrides, checkpoint=args.checkpoint)
        if args.task and args.task != task.name:
            raise UserError(f"{args.run} is a {task.name!r} run, not {args.task!r}")
        samples = load_pool(args.folder, scan.files[scan.choose_modality(task.modality)], task.modality,
                            task.pipeline.spec)
    else:
        if not args.task:
            raise UserError("choose a task with --task, or a trained run with --run")
        task_cls = get_task(args.task)
        task_args = task_cls.Args.from_mapping(overrides)
        modality = scan.choose_modality(task_cls.modality)
        spec, _ = suited_inputs(Path(args.folder), modality, "auto", _inputs_from(args), scan)
        samples, pipeline = preview_inputs(args.folder, scan.files[modality], modality, spec)
        task, model = task_cls(task_args, pipeline), None
    previews, _ = render_preview(task, samples, shown.n, shown.seed, model)
    title = f"{task.name} on {Path(args.folder).name}: " + ", ".join(
        f"{k}={v}" for k, v in task.args.to_dict().items()) + (f" (model: {args.run})" if args.run else "")
    save_sheet(previews, title, args.out)
    say(f"wrote {args.out} ({len(previews)} samples)")
    return 0


# ------------------------------------------------------------------ train
def cmd_train(args) -> int:
    from sslstudio.core.settings import parse_assignments
    from sslstudio.core.training.device import describe_device, resolve_device
    from sslstudio.core.training.distributed import init_from_environment, leave_process_group
    from sslstudio.core.training.session import TrainRequest, prepare, train

    settings = given(args, TrainConfig)
    TrainConfig.from_mapping(settings)  # a conflict fails here, before any decoding
    if args.checkpoint and not args.resume:
        raise UserError("--checkpoint chooses where --resume continues from; add --resume")
    request = TrainRequest(Path(args.folder), Path(args.out), args.task, parse_assignments(args.set),
                           args.backbone, _inputs_from(args), settings, args.device, args.resume,
                           resume_from=args.checkpoint, init=args.init, recipe=args.recipe)
    device = resolve_device(args.device)  # a bad device name fails before minutes of data loading
    init_from_environment(args.device)
    prepared = prepare(request, progress=ProgressReport("decoding"))
    _report_skipped(prepared.samples)
    for note in prepared.notes:
        say(note)
    say(f"{'resuming' if args.resume else 'training'} {prepared.task.name} on {len(prepared.samples)} samples, "
        f"{describe_device(device)} -> {args.out}")
    printer = TrainPrinter(prepared.task.modality)
    result = None
    try:
        result = train(request, [printer], prepared=prepared)
    finally:
        printer.close()
        leave_process_group(together=result is not None and not isinstance(result, TrainingFailed))
    payload = {"run": str(args.out), **asdict(result), "last": printer.last}
    if isinstance(result, TrainingFailed):
        say(f"training failed at step {result.step}: {result.message}")
        if result.traceback:
            say(result.traceback)
        if args.json:
            _emit_json(payload)
        return 1
    setup = f" after {result.setup_seconds:.0f} s of set-up" if result.setup_seconds >= 1 else ""
    say(f"finished at step {result.step}: {result.reason}, {result.seconds:.0f} s of training{setup}")
    if args.json:
        _emit_json(payload)
    return 0


# ------------------------------------------------------------------ store
def cmd_store(args) -> int:
    from sslstudio.core.data.store import store_root
    from sslstudio.core.data.store_list import clear_stores, list_stores
    from sslstudio.core.data.survey import describe_bytes

    if args.action == "list":
        stores = list_stores()
        if args.json:
            _emit_json({"root": str(store_root()), "stores": [
                {"path": str(s.path), "folder": s.folder, "modality": s.modality, "settings": s.settings,
                 "files": s.files, "samples": s.samples, "bytes": s.bytes, "reclaimable": s.reclaimable,
                 "last_written": s.last_written, "damaged": s.damaged} for s in stores]})
            return 0
        print(f"{store_root()}: {len(stores)} store(s), {describe_bytes(sum(s.bytes for s in stores))}")
        for s in stores:
            settings = ", ".join(f"{k}={v}" for k, v in s.settings.items())
            stale = f"; {describe_bytes(s.reclaimable)} of removed or changed files" if s.reclaimable else ""
            stale += f"; DAMAGED: {s.damaged}, rebuilt when next used" if s.damaged else ""
            print(f"  {describe_bytes(s.bytes):>9}  {s.samples:>8} samples  {s.modality:<5} {printable(s.folder)} "
                  f"({settings}{stale})")
        return 0
    removed, busy = clear_stores(folder=args.folder)
    freed = sum(s.bytes for s in removed)
    if args.json:
        _emit_json({"removed": [str(s.path) for s in removed], "in_use": [str(s.path) for s in busy], "bytes": freed})
        return 0
    print(f"removed {len(removed)} store(s), freed {describe_bytes(freed)}")
    for s in busy:
        print(f"  kept {s.path}: in use by a running job")
    return 0


# ------------------------------------------------------------------- demo
def _has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def cmd_gui(args) -> int:
    if not _has_display():
        say("no display here (DISPLAY and WAYLAND_DISPLAY are unset): running the headless demo instead; "
             "`sslstudio demo --help` for its options")
        return cmd_demo(argparse.Namespace(modality=None, max_minutes=0.5, out=None, json=False))
    from sslstudio.gui.app import run_gui

    if args.present:
        RunDir(args.present).read_config()  # a plain error here, before a window opens, for a folder that is no run
    return run_gui(args.target, present=(args.present, args.replay_seconds) if args.present else None)


def cmd_demo(args) -> int:
    from sslstudio.core.demo import run_demo

    results = run_demo(args.modality, args.max_minutes, args.out, log=say)
    if args.json:
        _emit_json({"results": results})
        return 0
    print(f"{'modality':<8} {'what':<27} {'task':<18} {'steps':>6} {'SSL':>6} {'random':>7} {'raw':>6}  "
          f"(linear probe, 10 labels per class)")
    for r in results:
        b = r["probe"]["baselines"]
        print(f"{r['modality']:<8} {r['kind']:<27} {r['task']:<18} {r['steps']:>6} {r['probe']['accuracy']:>6.3f} "
              f"{b['random_init']:>7.3f} {b['raw']:>6.3f}")
    print()
    for r in results:
        print(f"{r['modality']}, {r['kind']}: {r['verdict']}")
    for modality in dict.fromkeys(r["modality"] for r in results):
        first = next(r for r in results if r["modality"] == modality)
        print(f"{modality}, the recipe {first['recipe']} where the leaderboard measured it: {first['recipe_measured']}")
    return 0
