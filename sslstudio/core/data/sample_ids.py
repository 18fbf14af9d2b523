"""What a sample id says: the file's path inside its folder, and, for a file of several samples, which part.

- `talk.wav#t=30`: the segment of a long recording that starts at 30 s (`segment_id`);
- `notes.jsonl#12`: line 12 of a JSON-lines file, or row 12 of a CSV table (`line_id`);
- any other id is a whole file, `talk.wav#t=30.wav` and `c#sharp.txt` included.

An id is split only where these functions could have made it: a segment of a file with an audio extension, a
line of a .jsonl/.csv file, written exactly as they write it. A file is found by its extension, and a name that
ends in `#t=30` or `#12` has none of those, so no real file's id ever reads as a part of another.
"""
from __future__ import annotations

import os

from sslstudio.core.data.scan import EXTENSIONS

TABLES = (".jsonl", ".csv")  # text files of one sample per line or row


def segment_id(relpath: str, start: float) -> str:
    return f"{relpath}#t={start:g}"


def line_id(relpath: str, number: int) -> str:
    return f"{relpath}#{number}"


def split_sample_id(sample_id: str) -> tuple[str, str]:
    """(the file's path, the part of it: "" for the whole file, else the suffix: "#t=30", "#12")."""
    relpath, mark, where = sample_id.rpartition("#")
    if mark and _made_here(relpath, where):
        return relpath, mark + where
    return sample_id, ""


def file_of(sample_id: str) -> str:
    """The path of the file a sample comes from (inside its folder, as the id gives it)."""
    return split_sample_id(sample_id)[0]


def _made_here(relpath: str, where: str) -> bool:
    extension = os.path.splitext(relpath)[1].lower()
    if extension in EXTENSIONS["audio"] and where.startswith("t="):
        try:
            return segment_id(relpath, float(where[2:])) == f"{relpath}#{where}"
        except ValueError:
            return False
    return extension in TABLES and where.isdecimal() and line_id(relpath, int(where)) == f"{relpath}#{where}"
