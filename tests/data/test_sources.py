"""Input corpora described by corpus.yaml, read through the real-format readers."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from signlib.data.formats.elan import frame_to_ms, write_eaf, write_segments_eaf
from signlib.data.formats.pose_writer import write_pose
from signlib.data.formats.signspark import write_signspark
from signlib.data.sequence import Sequence
from signlib.data.sources import SourceSizes, load_dictionary, load_source, read_spec, synth_spec
from signlib.data.store import write_clip
from signlib.errors import SignlibError

SPEC = {"format": "synthetic", "files": "", "fps": 25, "language": "", "signers": "", "eaf_tier": "",
        "synthetic": {"languages": ["DGS", "CSL"], "signers_per_language": 2, "sentences_per_signer": 1,
                      "signs_per_language": 40}}
SIZES = SourceSizes(max_clips=6, signers=4, sentences=3, signs=60)


def _write_spec(folder: Path, **changes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.yaml").write_text(yaml.safe_dump({**SPEC, **changes}))
    return folder


def test_synthetic_is_written_as_signspark_records_and_read_back(tmp_path):
    clips, folder = load_source(_write_spec(tmp_path / "in"), tmp_path / "work", seed=0, sizes=SIZES, progress=False)
    assert len(clips) == 4 and {c.language for c in clips} == {"DGS", "CSL"}
    assert folder == tmp_path / "work/source" and len(list(folder.glob("clips/*.npz"))) == 4
    assert all(c.signer and c.segments and c.valid is not None for c in clips)


def test_synthetic_sizes_come_from_source_sizes_unless_corpus_yaml_sets_them(tmp_path):
    folder = _write_spec(tmp_path / "in", synthetic={"languages": ["DGS"]})
    sizes = SourceSizes(max_clips=1, signers=3, sentences=2, signs=40)
    clips, source = load_source(folder, tmp_path / "work", seed=0, sizes=sizes, progress=False)
    assert len(clips) == 3 * 2 and {c.language for c in clips} == {"DGS"}     # max_clips is for real corpora
    assert len({c.signer for c in clips}) == 3
    assert len(load_dictionary(source)) == 40                                  # one citation clip per sign


def test_the_zipf_exponent_comes_from_source_sizes_unless_corpus_yaml_sets_it():
    assert synth_spec({}, replace(SIZES, zipf=1.5), seed=0).zipf_exponent == 1.5
    assert synth_spec({"zipf_exponent": 0.0}, SIZES, seed=0).zipf_exponent == 0.0


def test_max_clips_caps_each_language_of_a_real_corpus(tmp_path):
    folder = _write_spec(tmp_path / "in", format="signlib", files="*.npz")
    for k in range(3):
        write_clip(folder / f"c{k}.npz", Sequence(features=np.zeros((4, 147), np.float32), layout="xyz_mediapipe",
                                                  fps=30, language="BSL", signer="x", id=f"c{k}"))
    clips, _ = load_source(folder, tmp_path / "work", seed=0, sizes=replace(SIZES, max_clips=2), progress=False)
    assert [c.id for c in clips] == ["c0", "c1"]


def test_signspark_folder_with_signers_csv(tmp_path):
    folder = _write_spec(tmp_path / "in", format="signspark", files="clips/*.npz", signers="signers.csv")
    seq = Sequence(features=np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), (6, 40)), layout="rot6d", fps=25,
                   segments=[(1, 3, "HAUS")], text="das haus", language="DGS", id="a")
    write_signspark(folder / "clips/a.npz", seq)
    (folder / "signers.csv").write_text("clip,signer\na,anna\n")
    [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert (clip.signer, clip.language, clip.glosses) == ("anna", "DGS", ["HAUS"])


def test_pose_folder_with_eaf_glosses(tmp_path):
    folder = _write_spec(tmp_path / "in", format="pose", files="*.pose", language="DGS", eaf_tier="Gloss")
    rng = np.random.default_rng(0)
    seq = Sequence(features=rng.normal(size=(20, 147)).astype(np.float32), layout="xyz_mediapipe", fps=25, id="s1")
    write_pose(folder / "s1.pose", seq)
    write_segments_eaf(folder / "s1.eaf", [(2, 8, "HAUS"), (10, 15, "GEHEN")], fps=25, tier="Gloss")
    [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert clip.language == "DGS" and clip.glosses == ["HAUS", "GEHEN"] and clip.signer == "s1"


def test_eaf_annotations_past_the_clip_end_are_clipped_or_left_out_with_a_warning(tmp_path):
    folder = _write_spec(tmp_path / "in", format="pose", files="*.pose", language="DGS", eaf_tier="Gloss")
    seq = Sequence(features=np.zeros((20, 147), np.float32), layout="xyz_mediapipe", fps=25, id="s1")
    write_pose(folder / "s1.pose", seq)
    write_segments_eaf(folder / "s1.eaf", [(2, 8, "HAUS"), (15, 24, "GEHEN"), (21, 26, "ROT")], fps=25, tier="Gloss")
    with pytest.warns(UserWarning, match=r"s1\.eaf: 1 annotation\(s\) start at or after .*20 frames.*: ROT"):
        [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert [(g.start, g.end, g.gloss) for g in clip.segments] == [(2, 8, "HAUS"), (15, 20, "GEHEN")]


def test_pose_folder_reads_the_text_tier_when_corpus_yaml_names_one(tmp_path):
    folder = _write_spec(tmp_path / "in", format="pose", files="*.pose", language="DGS", eaf_tier="Gloss",
                         text_tier="Text")
    seq = Sequence(features=np.zeros((20, 147), np.float32), layout="xyz_mediapipe", fps=25, id="s1")
    write_pose(folder / "s1.pose", seq)
    ms = lambda f: frame_to_ms(f, 25)  # noqa: E731
    write_eaf(folder / "s1.eaf", {"Gloss": [(ms(2), ms(8), "HAUS")],
                                  "Text": [(ms(0), ms(10), "Das Haus"), (ms(10), ms(20), "ist rot.")]})
    [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert clip.text == "Das Haus ist rot." and clip.glosses == ["HAUS"]
    assert read_spec(folder).text_tier == "Text"
    (folder / "corpus.yaml").write_text(yaml.safe_dump({**SPEC, "format": "pose", "files": "*.pose",
                                                        "language": "DGS", "eaf_tier": "Gloss"}))
    assert read_spec(folder).text_tier == ""                          # optional key
    [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert clip.text == "" and clip.glosses == ["HAUS"]


def test_signlib_clip_folder(tmp_path):
    folder = _write_spec(tmp_path / "in", format="signlib", files="*.npz")
    write_clip(folder / "c.npz", Sequence(features=np.zeros((4, 147), np.float32), layout="xyz_mediapipe", fps=30,
                                          language="BSL", signer="x", id="c"))
    [clip] = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]
    assert (clip.fps, clip.signer) == (30, "x")


@pytest.mark.parametrize("changes,message", [
    ({"format": "video"}, "format 'video' is not one of"),
    ({"colour": 1}, "unknown key 'colour'"),
    ({"format": "signspark", "files": "*.npz"}, "no files match"),
    ({"synthetic": {"speed": 2}}, "unknown synthetic key 'speed'"),
    ({"format": "signlib", "files": "*.npz", "signers": "who.csv"}, "who.csv: signers file not found"),
])
def test_bad_corpus_folders_are_one_line_errors(tmp_path, changes, message):
    folder = _write_spec(tmp_path / "in", **changes)
    with pytest.raises(SignlibError, match=message):
        load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)[0]


def test_missing_key_and_missing_spec(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    with pytest.raises(SignlibError, match="no corpus.yaml"):
        read_spec(folder)
    spec = dict(SPEC)
    del spec["fps"]
    (folder / "corpus.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises(SignlibError, match="missing key 'fps'"):
        read_spec(folder)


@pytest.mark.parametrize("text, message", [
    (b"format: pose\n\xff\xfe", "not (UTF-8 text|valid YAML)"),
    (b'format: "\\U99999999"\n', "not valid YAML"),
    (b"[" * 5000, "not valid YAML"),
    (b"fps: 1\n" + b"# padding\n" * 8000, "80007 bytes is far too large for a corpus spec"),
], ids=["bytes", "escape", "nested", "huge"])
def test_unreadable_corpus_yaml_is_one_line(tmp_path, text, message):
    (tmp_path / "corpus.yaml").write_bytes(text)
    with pytest.raises(SignlibError, match=rf"corpus\.yaml: {message}") as err:
        read_spec(tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("changes, message", [
    ({"fps": "fast"}, "fps must be a positive number"),
    ({"fps": 10**400}, "fps must be a positive number"),
    ({"fps": float("nan")}, "fps must be a positive number"),
    ({"fps": True}, "fps must be a positive number"),
    ({"fps": [25]}, "fps must be a positive number"),
    ({"language": False}, r"key 'language' must be a string \(quote it\), got bool"),  # YAML reads `no` so
    ({"files": {"a": 1}}, "key 'files' must be a string"),
    ({"synthetic": ["DGS"]}, "key 'synthetic' must be a mapping"),
    ({"format": ["pose"]}, "format .* is not one of"),
])
def test_values_of_the_wrong_type_are_named(tmp_path, changes, message):
    folder = _write_spec(tmp_path / "in", **changes)
    with pytest.raises(SignlibError, match=rf"corpus\.yaml: {message}"):
        read_spec(folder)


def test_temporary_files_of_interrupted_writers_are_not_clips(tmp_path):
    # pathlib's glob matches hidden names; an atomic writer killed mid-write leaves ".c.npz.x1y2.npz".
    folder = _write_spec(tmp_path / "in", format="signlib", files="*.npz")
    write_clip(folder / "c.npz", Sequence(features=np.zeros((4, 147), np.float32), layout="xyz_mediapipe", fps=30, id="c"))
    (folder / ".c.npz.x1y2.npz").write_bytes(b"PK\x03\x04 half written")
    clips, _ = load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)
    assert [c.id for c in clips] == ["c"]


def test_a_signers_file_that_is_not_utf8_is_named(tmp_path):
    folder = _write_spec(tmp_path / "in", format="signlib", files="*.npz", signers="who.csv")
    write_clip(folder / "c.npz", Sequence(features=np.zeros((4, 147), np.float32), layout="xyz_mediapipe", fps=30, id="c"))
    (folder / "who.csv").write_bytes(b"clip,signer\nc,\xff\n")
    with pytest.raises(SignlibError, match=r"who\.csv: not UTF-8"):
        load_source(folder, tmp_path / "work", seed=0, sizes=SIZES, progress=False)
