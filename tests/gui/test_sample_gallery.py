"""The file the workbench opens for a sample: a segment's recording, a line's table, and a file named like either
is that file itself."""
import soundfile as sf

from sslstudio.core.data.dataset import load_folder
from sslstudio.core.data.loaders import InputSpec
from sslstudio.gui.widgets.sample_gallery import sample_file
from tests.core.test_sample_ids import recordings


def test_a_sample_opens_its_own_recording(tmp_path):
    samples = load_folder(recordings(tmp_path / "aud"), "audio", spec=InputSpec(audio_seconds=1.0))
    opened = {sample_id: sample_file(samples, row) for row, sample_id in enumerate(samples.ids)}
    assert {opened[f"talk.wav#t={start}"] for start in (0, 10, 20, 30)} == {samples.root / "talk.wav"}
    for name in ("talk.wav#t=30.wav", "talk.wav#t=10.wav", "talk#1.wav"):
        assert opened[name] == samples.root / name and sf.info(opened[name]).duration == 3
