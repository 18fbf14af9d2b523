"""The CLI's options, built from the settings schemas (core/settings.py) and a table of each command's own
arguments: a setting is declared once, in core, and never again here."""
from __future__ import annotations

import argparse

from sslstudio.core.data.loaders import InputSpec
from sslstudio.core.embeddings.projection import METHODS, ProjectionSettings
from sslstudio.core.embeddings.table import EMBEDDING_FORMATS
from sslstudio.core.errors import ArgsError
from sslstudio.core.evaluation.settings import CurveSettings, ProbeSettings
from sslstudio.core.export_settings import ExportSettings
from sslstudio.core.preview import PreviewSettings
from sslstudio.core.settings import Settings
from sslstudio.core.training.config import TrainConfig

MODALITIES = ("image", "audio", "text")
CHECKPOINT = ("--checkpoint", dict(metavar="CKPT.pt", help="a kept checkpoint of the run (default: its last)"))
STORE = ("--store", dict(metavar="DIR", help="where decoded samples are kept (default: the user's cache folder, or "
                                             "SSLSTUDIO_STORE); share it between torchrun nodes"))
COMMON = {  # arguments several commands share, by name
    "folder": (("folder",), {}),
    "run": (("run",), {}),
    "json": (("--json",), dict(action="store_true", help="print one JSON object on stdout; progress on stderr")),
    "device": (("--device",), dict(default="auto", help="auto, cpu, cuda, cuda:N or mps")),
    "labelled": (("--labelled",), dict(required=True, metavar="FOLDER|CSV", help="a labelled folder or a CSV "
                                                                                 "of path,label[,split] rows")),
    "set": (("--set",), dict(action="append", default=[], metavar="KEY=VALUE", help="a task setting")),
    "checkpoint": ((CHECKPOINT[0],), CHECKPOINT[1]),
    "store": ((STORE[0],), STORE[1]),
}

# command: (help, arguments, settings groups). An argument is a COMMON name or (flags, keyword arguments).
COMMANDS: dict[str, tuple[str, list, tuple[type[Settings], ...]]] = {
    "tasks": ("list the pretext tasks, their settings and the recommended recipes", [
        (("--modality",), dict(choices=MODALITIES)), "json"], ()),
    "settings": ("every settings group with its fields, types, ranges and help", ["json"], ()),
    "scan": ("modality, counts, labels and unusable files of a folder", [
        "folder", (("--modality",), dict(choices=MODALITIES, help="the modality to decode and check (default: the "
                                                                  "one with the most files)")),
        (("--quick",), dict(action="store_true", help="list files only; do not decode them")), "json", "store"],
        (InputSpec,)),
    "preview": ("render what a task feeds the model into a PNG sheet", [
        "folder", (("--task",), dict(help="the task (taken from --run when given)")),
        (("--run",), dict(help="a trained run: its settings, plus the model's own outputs (reconstructions, "
                               "fills) beside the inputs")),
        "set", "checkpoint", (("--out",), dict(required=True, metavar="SHEET.png")), "store"],
        (PreviewSettings, InputSpec)),
    "train": ("pretrain a backbone on a folder with a pretext task", [
        "folder", (("--task",), dict(help="a pretext task (default: the recommended recipe's, see `sslstudio "
                                          "tasks`)")),
        (("--recipe",), dict(help="a recommended recipe by name: its task, backbone, inputs and settings, which "
                                  "the other options override")),
        (("--out",), dict(required=True, metavar="RUN")),
        (("--backbone",), dict(help="a name from `sslstudio tasks --json`, or timm:NAME for any timm model "
                                    "(default: one that suits the device and input size)")),
        (("--init",), dict(metavar="FILE", help="start the backbone from a local weights file (a torchvision or "
                                                "timm state_dict, .pt/.pth or .safetensors)")),
        "device", "set", (("--resume",), dict(action="store_true", help="continue the run in --out from its "
                                                                        "checkpoint")),
        (("--checkpoint",), dict(metavar="CKPT.pt", help="with --resume: a kept checkpoint to continue from "
                                                         "(default: the last)")), "json", "store"],
        (TrainConfig, InputSpec)),
    "embed": ("write embeddings of a folder's samples with a trained run (npz, csv or parquet, with a 2-D map's "
              "coordinates when --map is given)", [
        "run", "folder", (("--out",), dict(required=True, metavar="EMB.npz|.csv|.parquet")),
        (("--format",), dict(choices=EMBEDDING_FORMATS, help="the table's format (default: from --out's suffix)")),
        (("--map",), dict(choices=METHODS, help="add x and y from a 2-D map of the embeddings (pca, tsne or umap)")),
        (("--tensorboard",), dict(metavar="DIR", help="also write TensorBoard projector files (vectors, id and label "
                                                      "per row, a sprite of thumbnails for images) under DIR")),
        "checkpoint", "device", "json", "store"], ()),
    "probe": ("few-label kNN or linear probe on a run's frozen features", [
        "run", "labelled", "checkpoint", "device", "json", "store"], (ProbeSettings,)),
    "curve": ("label-efficiency curve: accuracy against labels per class, for the run, a random-init copy and "
              "raw inputs", ["run", "labelled", "checkpoint", "device", "json", "store"], (CurveSettings,)),
    "export": ("write a run's model (with its preprocessing) as TorchScript, ONNX or a state_dict, checked "
               "against the app on held-out samples", [
        "run", (("--out",), dict(required=True, metavar="FILE")), "checkpoint",
        (("--labelled",), dict(metavar="FOLDER|CSV", help="also fit a linear probe on these labels and export it "
                                                          "as a classification head")),
        (("--folder",), dict(help="where check samples come from when there is no --labelled (default: the "
                                  "run's training folder)")), "json", "store"], (ExportSettings,)),
    "store": ("the sample stores: where each folder's decoded samples are kept", [
        (("action",), dict(choices=("list", "clear"), help="list them with their sizes, or delete them")),
        (("folder",), dict(nargs="?", help="clear: only the stores of this folder (default: all)")), "json",
        "store"], ()),
    "gui": ("open the workbench (the default command)", [
        (("target",), dict(nargs="?", help="a data folder or a .sslproj project to open")),
        (("--present",), dict(metavar="RUN", help="presenter mode (large type, high contrast, full screen) "
                                                  "replaying this finished run: curves, live outputs, map")),
        (("--replay-seconds",), dict(type=float, default=30.0, help="how long the replay of the curves takes"))],
        ()),
    "demo": ("the whole loop on the bundled demo data, headless", [
        (("--modality",), dict(choices=MODALITIES, action="append", help="limit to one modality (repeatable); "
                                                                         "default all three")),
        (("--max-minutes",), dict(type=float, default=0.5, help="training budget per modality")),
        (("--out",), dict(help="folder for the runs (default: a user data folder)")), "json"], ()),
}
SETTINGS_GROUPS: dict[str, type[Settings]] = {  # `sslstudio settings` lists these; tasks list their own
    "train": TrainConfig, "inputs": InputSpec, "preview": PreviewSettings, "probe": ProbeSettings,
    "curve": CurveSettings, "export": ExportSettings, "map": ProjectionSettings}


def add_command(sub, name: str) -> argparse.ArgumentParser:
    about, arguments, groups = COMMANDS[name]
    parser = sub.add_parser(name, help=about, description=about)
    for argument in arguments:
        flags, options = COMMON[argument] if isinstance(argument, str) else argument
        parser.add_argument(*flags, **options)
    for group in groups:
        add_settings(parser, group)
    return parser


def add_settings(parser: argparse.ArgumentParser, cls: type[Settings]) -> None:
    """One option per field of `cls`, named after it (--batch-size), with its help, range and default.
    Options left out stay None, so `given` can tell the user's values from the defaults."""
    for field in cls.schema():
        name = field["name"]
        options = dict(default=None, help=_help(field))
        if field["type"] == "bool":
            options["action"] = "store_true"
        else:
            options["type"] = _converter(cls, name, many=field.get("many", False))
            if "choices" in field:
                options["choices"] = field["choices"]
            else:
                options["metavar"] = field["type"].upper()
            if field.get("many"):
                options["nargs"] = "+"
        parser.add_argument("--" + name.replace("_", "-"), dest=name, **options)


def given(args: argparse.Namespace, cls: type[Settings]) -> dict:
    """The values of `cls`'s fields that the command line set."""
    return {f["name"]: getattr(args, f["name"]) for f in cls.schema() if getattr(args, f["name"], None) is not None}


def settings_from(args: argparse.Namespace, cls: type[Settings]):
    """`cls` with the command line's values over its defaults; a conflict between fields fails here."""
    return cls.from_mapping(given(args, cls))


def _converter(cls: type[Settings], name: str, many: bool):
    def convert(text: str):
        try:
            value = cls.coerce(name, [text] if many else text)
        except ArgsError as exc:
            raise argparse.ArgumentTypeError(str(exc).replace(f"setting {name!r}", "it")) from None
        return value[0] if many else value
    convert.__name__ = cls.kinds()[name].scalar.__name__  # what argparse names in "invalid VALUE value"
    return convert


def _help(field: dict) -> str:
    text = field["help"]
    if "choices" in field:
        text += f" One of {', '.join(map(str, field['choices']))}."
    elif "min" in field and "max" in field:
        text += f" Range {field['min']} to {field['max']}."
    elif "min" in field:
        text += f" At least {field['min']}."
    default = field["default"]
    if default is None:
        text += f" Default: {field.get('none_means', 'none')}."
    elif field["type"] != "bool":
        shown = " ".join(map(str, default)) if isinstance(default, list) else default
        text += f" Default: {shown}."
    return text.replace("%", "%%")
