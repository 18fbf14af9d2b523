"""The explicit list of pretext tasks. Adding a task is one module and one line here."""
from __future__ import annotations

from sslstudio.core.errors import UserError
from sslstudio.core.tasks.audio_contrastive import AudioContrastive
from sslstudio.core.tasks.audio_denoising import AudioDenoising
from sslstudio.core.tasks.audio_mae import AudioMAE
from sslstudio.core.tasks.base import FAMILIES, PretextTask
from sslstudio.core.tasks.byol import BYOL
from sslstudio.core.tasks.colorization import Colorization
from sslstudio.core.tasks.dino import DINO
from sslstudio.core.tasks.inpainting import Inpainting
from sslstudio.core.tasks.jigsaw import Jigsaw
from sslstudio.core.tasks.mae import MAE
from sslstudio.core.tasks.masked_spectrogram import MaskedSpectrogram
from sslstudio.core.tasks.mlm import MaskedLanguageModel
from sslstudio.core.tasks.rotation import Rotation
from sslstudio.core.tasks.simclr import SimCLR
from sslstudio.core.tasks.simcse import SimCSE
from sslstudio.core.tasks.vicreg import VICReg
from sslstudio.core.tasks.word_context import WordContext

TASKS: dict[str, type[PretextTask]] = {
    task.name: task for task in (
        Rotation, Jigsaw, Colorization, Inpainting, MAE, SimCLR, BYOL, DINO, VICReg,  # images
        MaskedSpectrogram, AudioMAE, AudioDenoising, AudioContrastive,  # audio
        WordContext, MaskedLanguageModel, SimCSE,  # text
    )
}


def get_task(name: str) -> type[PretextTask]:
    try:
        return TASKS[name]
    except KeyError:
        raise UserError(f"unknown task {name!r}; valid tasks: {', '.join(sorted(TASKS))}") from None


def tasks_for(modality: str | None = None) -> list[type[PretextTask]]:
    return [t for t in TASKS.values() if modality is None or t.modality == modality]


def catalogue(modality: str) -> list[dict]:
    """The modality's tasks described, grouped by family (in FAMILIES order), registry order within one."""
    return sorted((task.describe() for task in tasks_for(modality)), key=lambda entry: FAMILIES.index(entry["family"]))
