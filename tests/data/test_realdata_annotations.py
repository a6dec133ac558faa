"""Every annotation file in the real-data folder, read through signlib's readers.

Counts come from ``realdata/MANIFEST.md``. Skipped when the folder is absent
(``<repo>/../shared/realdata``, or ``$SIGNLIB_REALDATA``).
"""

import json
import os
from pathlib import Path

import pytest

from signlib.data.formats.annotations import (read_dgs_fluent_folder, read_dgs_fluent_metadata, read_lexicon_index,
                                              read_phoenix_csv)
from signlib.errors import SignlibError

pytestmark = pytest.mark.realdata

_ROOT = Path(os.environ.get("SIGNLIB_REALDATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata")


@pytest.fixture(scope="module")
def realdata() -> Path:
    if not _ROOT.is_dir():
        pytest.skip(f"real data not found at {_ROOT} (set SIGNLIB_REALDATA)")
    return _ROOT


def test_every_annotation_file_is_covered_by_a_reader(realdata):
    # Guards the counts below: a new CSV/JSON in the folder needs a reader (or a test here).
    files = sorted(str(p.relative_to(realdata)) for p in realdata.rglob("*") if p.suffix in (".csv", ".json"))
    covered = [f for f in files if f.endswith(("corpus.csv", "index.csv", "index_ase.csv", "index_full_upstream.csv",
                                               "_metadata.json", "sentence.meta.json"))]
    assert files == covered


def test_phoenix_sample_has_the_manifest_gloss_sequence(realdata):
    (a,) = read_phoenix_csv(realdata / "phoenix14t_sample" / "PHOENIX-2014-T.sample.corpus.csv")
    assert " ".join(a.glosses) == "REGEN SCHNEE REGION VERSCHWINDEN NORD REGEN KOENNEN REGION STERN KOENNEN SEHEN"
    assert a.id == "25October_2010_Monday_tagesschau-17" and a.signer == "Signer01"
    assert a.text.startswith("regen und schnee") and a.start is None and a.end is None
    # The pose file the row names is in the same folder.
    assert (realdata / "phoenix14t_sample" / f"{a.id}.pose").is_file()


@pytest.mark.parametrize("relpath, rows, languages", [
    ("signsuisse_dummy_lexicon/index.csv", 4, {"sgg"}),
    ("fingerspelling_lexicon/index_ase.csv", 26, {"ase"}),
    ("fingerspelling_lexicon/index_full_upstream.csv", 626,
     {"ase", "asq", "bzs", "cse", "csq", "eso", "fsl", "gsg", "gss", "ise", "jos", "lls", "mfs", "psr", "sgg",
      "ssp", "svk", "swl", "tsm", "ukl"}),
])
def test_lexicon_indexes_have_the_manifest_row_counts(realdata, relpath, rows, languages):
    entries = read_lexicon_index(realdata / relpath)
    assert len(entries) == rows
    assert {e.language for e in entries} == languages
    assert all(len(e.glosses) == 1 and e.text for e in entries)


def test_asl_fingerspelling_covers_the_alphabet_and_its_pose_files_exist(realdata):
    entries = read_lexicon_index(realdata / "fingerspelling_lexicon" / "index_ase.csv")
    assert sorted(e.glosses[0] for e in entries) == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    assert all((realdata / "fingerspelling_lexicon" / e.id).is_file() for e in entries)
    assert all(e.end is not None and e.end > e.start for e in entries)  # untrimmed durations, seconds


def test_signsuisse_entries_point_at_their_pose_files(realdata):
    entries = read_lexicon_index(realdata / "signsuisse_dummy_lexicon" / "index.csv")
    assert {e.text for e in entries} == {"kleine", "kinder", "essen", "pizza"}
    assert all((realdata / "signsuisse_dummy_lexicon" / e.id).is_file() for e in entries)


def test_dgs_fluent_sentences_have_the_manifest_counts(realdata):
    sentences = read_dgs_fluent_folder(realdata / "dgs_fluent_sentences")
    assert len(sentences) == 32
    assert sum(len(s.glosses) for s in sentences) == 190
    assert len({s.id for s in sentences}) == 32
    for s in sentences:
        assert len(s.extras["gloss_spans"]) == len(s.glosses) and s.text and s.language == "DGS"
        assert s.start <= min(a for a, _ in s.extras["gloss_spans"])
        assert all(a < b for a, b in s.extras["gloss_spans"])


def test_dgs_train_7_has_an_empty_english_translation(realdata):
    s = read_dgs_fluent_metadata(realdata / "dgs_fluent_sentences" / "train" / "train_7_metadata.json")
    assert s.extras["english"] == "" and s.text.startswith("Sie sprachen")


def test_dgs_fluent_glosses_overlap_once_where_hand_tiers_were_merged(realdata):
    sentences = read_dgs_fluent_folder(realdata / "dgs_fluent_sentences")
    spans = [s.extras["gloss_spans"] for s in sentences]
    overlaps = sum(end > next_start for sp in spans for (_, end), (next_start, _) in zip(sp, sp[1:]))
    assert overlaps == 1


def test_hand_written_example_sidecar_is_not_mistaken_for_fluent_metadata(realdata):
    path = realdata / "dgs_fluent_example" / "sentence.meta.json"
    with pytest.raises(SignlibError, match=r"sentence\.meta\.json: missing key 'sentence'"):
        read_dgs_fluent_metadata(path)
    meta = json.loads(path.read_text(encoding="utf-8"))
    assert len(meta["glosses_en"]) == 6
