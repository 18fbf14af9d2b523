"""Sample ids: only the ids the store makes for part of a file (a recording's segment, a table's line) name that
part; a real file whose name looks like one is a file of its own."""
import numpy as np
import soundfile as sf

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec

RATE = 16000


def tone(path, seconds, hz):
    wave = 0.3 * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)
    sf.write(path, wave.astype(np.float32), RATE)


def recordings(folder):
    """talk.wav (35 s: four segments talk.wav#t=0 ... #t=30) beside real files named like its segments."""
    folder.mkdir()
    tone(folder / "talk.wav", 35, 200)
    for name, hz in [("talk.wav#t=30.wav", 3000), ("talk.wav#t=10.wav", 2000), ("talk#1.wav", 900)]:
        tone(folder / name, 3, hz)
    for i in range(4):
        tone(folder / f"tone{i}.wav", 2, 400 + 50 * i)
    return folder


def test_a_file_named_like_a_segment_is_its_own_recording(tmp_path):
    samples = load_folder(recordings(tmp_path / "aud"), "audio", spec=InputSpec(audio_seconds=1.0))
    segments = [f"talk.wav#t={start}" for start in (0, 10, 20, 30)]
    assert set(segments + ["talk.wav#t=30.wav", "talk.wav#t=10.wav", "talk#1.wav"]) <= set(samples.ids)
    groups = dict(zip(samples.ids, samples.groups(), strict=True))
    assert {groups[i] for i in segments} == {"talk.wav"}
    assert groups["talk.wav#t=30.wav"] == "talk.wav#t=30.wav" and groups["talk.wav#t=10.wav"] == "talk.wav#t=10.wav"
    assert groups["talk#1.wav"] == "talk#1.wav"
    files = {sample_id: samples.file_of(row) for row, sample_id in enumerate(samples.ids)}
    assert {files[i] for i in segments} == {samples.root / "talk.wav"}  # a file to open, not talk.wav#t=30
    assert all(files[i] == samples.root / i for i in ("talk.wav#t=30.wav", "talk.wav#t=10.wav", "talk#1.wav"))


def test_a_text_line_names_its_file_and_a_file_named_like_a_line_is_its_own(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "notes.jsonl").write_text('{"text": "first note"}\n{"text": "second note"}\n')
    (folder / "notes.jsonl#2.txt").write_text("a file of its own")
    (folder / "plain.txt").write_text("plain words")
    samples = load_folder(folder, "text", spec=InputSpec())
    files = {sample_id: samples.file_of(row) for row, sample_id in enumerate(samples.ids)}
    assert files == {"notes.jsonl#1": folder / "notes.jsonl", "notes.jsonl#2": folder / "notes.jsonl",
                     "notes.jsonl#2.txt": folder / "notes.jsonl#2.txt", "plain.txt": folder / "plain.txt"}
    assert samples.groups() is None
