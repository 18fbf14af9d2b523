"""The Embeddings page's state and its staleness rules, without Qt, on real decoded samples."""
import numpy as np
import pytest

from sslstudio.core.colour import CLASS_COLOURS, UNLABELLED_GREY, ClassColours, distinct_colours, srgb_to_lab
from sslstudio.core.data.dataset import load_folder
from sslstudio.core.embeddings.cache import Embeddings
from sslstudio.core.embeddings.map_session import MapSession
from sslstudio.core.errors import UserError


@pytest.fixture
def session(tiny_images):
    samples = load_folder(tiny_images, "image")
    vectors = np.random.default_rng(0).normal(size=(len(samples), 8)).astype(np.float32)
    embeddings = Embeddings(vectors, np.array(samples.ids), np.array([x or "" for x in samples.labels]), "last.pt")
    session = MapSession()
    session.set_folder(tiny_images)
    session.set_map(samples, embeddings, vectors[:, :2])
    return session


def test_a_new_map_clears_what_was_computed_from_the_old_one(session):
    session.set_clusters(np.zeros(len(session.coords), dtype=int), 4)
    session.probe, session.frames = object(), [session.coords]
    session.set_map(session.samples, session.embeddings, session.coords * 2)
    assert session.clusters is None and session.probe is None and session.frames == []
    assert session.index is not None and session.needs("cluster") == "clusters"


def test_app_labels_win_and_clear_the_probe_but_not_the_clusters(session):
    session.set_clusters(np.zeros(len(session.coords), dtype=int), 4)
    session.probe = object()
    before = session.labels()[0]
    labels = session.label(np.array([0, 1]), "picked")
    assert labels == {session.samples.ids[0]: "picked", session.samples.ids[1]: "picked"}
    assert session.labels()[0] == "picked" != before and "picked" in session.classes()
    assert session.probe is None and session.clusters is not None
    assert not session.set_app_labels(labels)  # the same labels again change nothing


def test_another_cluster_count_or_folder_makes_things_stale(session, tmp_path):
    session.set_clusters(np.zeros(len(session.coords), dtype=int), 4)
    assert not session.set_cluster_count(4) and session.clusters is not None
    assert session.set_cluster_count(6) and session.clusters is None
    session.set_folder(tmp_path)
    assert not session.mapped and session.labels().size == 0 and session.needs("cluster") is None


def test_a_probe_needs_two_labelled_classes(session):
    rows, classes = session.probe_rows()  # the folder's own four classes
    assert len(rows) == len(session.coords) and len(set(classes.tolist())) == 4
    session.samples.labels[:] = [None] * len(session.samples.labels)
    session.set_app_labels({session.samples.ids[0]: "only one"})
    with pytest.raises(UserError, match="at least two classes"):
        session.probe_rows()


def test_a_new_class_takes_a_new_colour_and_recolours_no_other(session):
    colours = session.class_colours
    before = dict(zip(session.classes(), colours.colours(session.classes()).tolist(), strict=True))
    session.label(np.array([0, 1]), "aaa, first in name order")
    after = dict(zip(session.classes(), colours.colours(session.classes()).tolist(), strict=True))
    assert all(after[name] == colour for name, colour in before.items())
    assert after["aaa, first in name order"] not in before.values()
    session.set_folder(session.folder.parent)  # another folder starts its colours afresh
    assert session.class_colours.slots == {}


def test_thirty_classes_get_thirty_colours_far_apart_from_each_other_and_the_grey():
    names = [f"class {i}" for i in range(30)]
    colours = ClassColours()
    rgb = np.vstack([colours.colours(names[:12]), colours.colours(names[12:])])  # in two batches
    lab = srgb_to_lab(np.vstack([rgb, UNLABELLED_GREY]))
    distance = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    np.fill_diagonal(distance, np.inf)
    assert len({tuple(c) for c in rgb.tolist()}) == 30 and distance.min() >= 25  # CIE76; 2.3 is just noticeable
    np.testing.assert_array_equal(distinct_colours(len(CLASS_COLOURS)), CLASS_COLOURS)  # the list's source
