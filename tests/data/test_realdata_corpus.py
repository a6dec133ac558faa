"""The real DGS sentences as a ``pose`` corpus folder read back through ``load_source``, and the
real-data manifest that stages check the folder against (``realdata.json``)."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from signlib.data.realdata import (MANIFEST, READ_BY_STAGES, check_manifest, dgs_fluent_sentences, manifest,
                                   write_dgs_corpus, write_manifest)
from signlib.data.sources import SourceSizes, load_source, read_spec
from signlib.errors import SignlibError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dgs_corpus(realdata_dir, tmp_path_factory):
    """``(clips read back, the sentences they came from)``."""
    out = write_dgs_corpus(tmp_path_factory.mktemp("dgs") / "corpus", realdata_dir)
    clips, folder = load_source(out, out.parent / "work", seed=0, sizes=SourceSizes(), progress=False)
    assert folder == out
    return clips, dgs_fluent_sentences(realdata_dir, "original")


@pytest.mark.realdata
def test_dgs_corpus_is_a_pose_corpus_with_gloss_and_text_tiers(dgs_corpus, realdata_dir, tmp_path):
    out = write_dgs_corpus(tmp_path / "c", realdata_dir)
    spec = read_spec(out)
    assert (spec.format, spec.language, spec.eaf_tier, spec.text_tier) == ("pose", "DGS", "GLOSS", "TEXT")
    assert len(list(out.glob("clips/*.pose"))) == len(list(out.glob("clips/*.eaf"))) == 32


@pytest.mark.realdata
def test_dgs_corpus_reads_back_every_sentence_with_its_poses_text_and_glosses(dgs_corpus):
    clips, sentences = dgs_corpus
    assert len(clips) == len(sentences) == 32
    by_id = {c.id: c for c in clips}
    for seq, ann in sentences:
        clip = by_id[seq.id.replace("_original", "")]              # e.g. train_1
        assert (clip.language, clip.layout, clip.fps) == ("DGS", seq.layout, seq.fps)
        assert clip.signer == clip.id                              # every sentence its own signer
        np.testing.assert_array_equal(clip.features, seq.features)  # the .pose file as it is
        assert clip.text == ann.text and clip.text.strip()
        assert clip.glosses == list(ann.glosses)                    # no gloss lost at the clip's end
        starts = [s.start for s in clip.segments]
        assert starts == sorted(starts)
        assert all(0 <= s.start < s.end <= clip.num_frames for s in clip.segments)


def test_write_dgs_corpus_without_a_real_data_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNLIB_REALDATA", str(tmp_path / "missing"))
    with pytest.raises(SignlibError, match="no real-data folder: set SIGNLIB_REALDATA"):
        write_dgs_corpus(tmp_path / "out")


def _fake_root(folder: Path) -> Path:
    sub = folder / READ_BY_STAGES[0]
    (sub / "test").mkdir(parents=True)
    (sub / "test" / "a.json").write_text('{"a": 1}')
    (sub / "test" / "b.pose").write_bytes(b"\x00\x01pose")
    (folder / "fingerspelling_lexicon").mkdir()
    (folder / "fingerspelling_lexicon" / "x.csv").write_text("not read by stages")
    return folder


def test_manifest_records_the_md5_of_every_file_stages_read(tmp_path):
    root = _fake_root(tmp_path / "realdata")
    assert manifest(root) == {"dgs_fluent_sentences/test/a.json": hashlib.md5(b'{"a": 1}').hexdigest(),
                              "dgs_fluent_sentences/test/b.pose": hashlib.md5(b"\x00\x01pose").hexdigest()}
    path = tmp_path / "realdata.json"
    assert write_manifest(path, root) == manifest(root)
    assert json.loads(path.read_text())["files"] == manifest(root)
    check_manifest(root, path)                                   # unchanged: no error


@pytest.mark.parametrize("change,count,first", [
    (lambda root: (root / "dgs_fluent_sentences/test/b.pose").write_bytes(b"other"), 1, "test/b.pose"),
    (lambda root: (root / "dgs_fluent_sentences/test/a.json").unlink(), 1, "test/a.json"),
    (lambda root: (root / "dgs_fluent_sentences/test/c.json").write_text("{}"), 1, "test/c.json"),
    (lambda root: [(root / "dgs_fluent_sentences/test" / n).write_text("x") for n in ("a.json", "b.pose")], 2,
     "test/a.json"),
])
def test_a_changed_folder_is_a_one_line_error_naming_the_file_count(tmp_path, change, count, first):
    root = _fake_root(tmp_path / "realdata")
    path = tmp_path / "realdata.json"
    write_manifest(path, root)
    change(root)
    with pytest.raises(SignlibError, match=f"{count} real-data files differ from .*realdata.json "
                                           f"\\(e.g. dgs_fluent_sentences/{first}\\)") as err:
        check_manifest(root, path)
    assert "\n" not in str(err.value) and "python -m signlib.data.realdata" in str(err.value)


def test_files_stages_do_not_read_are_not_checked(tmp_path):
    root = _fake_root(tmp_path / "realdata")
    path = tmp_path / "realdata.json"
    write_manifest(path, root)
    (root / "fingerspelling_lexicon" / "x.csv").write_text("changed")
    check_manifest(root, path)


@pytest.mark.realdata
def test_the_committed_manifest_matches_the_real_data_folder(realdata_dir):
    recorded = json.loads((REPO / MANIFEST).read_text())
    assert recorded["subfolders"] == list(READ_BY_STAGES)
    assert recorded["files"] == manifest(realdata_dir)
    check_manifest(realdata_dir, REPO / MANIFEST)
