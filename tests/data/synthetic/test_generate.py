"""The generated corpus on disk: real formats, deterministic, labelled from construction."""

import csv
import filecmp
import io
from collections import Counter

import numpy as np
import pytest

from signlib.config import PROFILES
from signlib.data.formats.signspark import read_signspark
from signlib.data.sources import load_dictionary, load_source, read_spec
from signlib.data.synthetic.generate import SynthSpec, generate_corpus
from signlib.data.synthetic.grammar import gloss_label, text_to_content_words, word_to_concept
from signlib.errors import SignlibError

SPEC = SynthSpec(signers_per_language=2, sentences_per_signer=3, signs_per_language=40, seed=7)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    return generate_corpus(tmp_path_factory.mktemp("gen") / "a", SPEC, progress=False)


def test_same_seed_gives_byte_identical_files(corpus_dir, tmp_path):
    again = generate_corpus(tmp_path / "b", SPEC, progress=False)
    files = sorted(p.relative_to(corpus_dir) for p in corpus_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    match, mismatch, errors = filecmp.cmpfiles(corpus_dir, again, [str(f) for f in files], shallow=False)
    assert not mismatch and not errors


def test_another_seed_gives_other_signing(corpus_dir, tmp_path):
    other = generate_corpus(tmp_path / "c", SynthSpec(**{**SPEC.__dict__, "seed": 8}), progress=False)
    a = read_signspark(corpus_dir / "clips" / "asl00_000.npz")
    b = read_signspark(other / "clips" / "asl00_000.npz")
    assert a.text != b.text or a.features.shape != b.features.shape or not np.array_equal(a.features, b.features)


def test_folder_is_a_signspark_corpus_read_back_by_the_real_reader(corpus_dir):
    assert read_spec(corpus_dir).format == "signspark"
    sizes = PROFILES["smoke"]
    clips, folder = load_source(corpus_dir, corpus_dir / "unused", seed=0, sizes=sizes, progress=False)
    assert folder == corpus_dir and len(clips) == 4 * 2 * 3
    assert {c.language for c in clips} == {"ASL", "BSL", "DGS", "CSL"}
    assert len({c.signer for c in clips}) == 8
    for c in clips:
        assert np.isfinite(c.features).all() and c.valid is not None and c.fps == 25
        assert 3 <= len(c.segments) <= 8


def test_every_gloss_sequence_covers_its_texts_content_words(corpus_dir):
    for path in sorted((corpus_dir / "clips").glob("*.npz")):
        seq = read_signspark(path)
        words = text_to_content_words(seq.text, seq.language)
        concepts = [word_to_concept(w, seq.language) for w in words]
        assert None not in concepts
        assert Counter(gloss_label(k, seq.language) for k in concepts) == Counter(seq.glosses), seq.id


def test_bio_from_the_segments_marks_signs_and_rest(corpus_dir):
    seq = read_signspark(corpus_dir / "clips" / "dgs01_002.npz")
    bio = seq.labels()
    assert bio[0] == 0 and bio[-1] == 0  # rest at start and end
    assert (bio == 2).sum() == len(seq.segments)
    for s in seq.segments:
        assert bio[s.start] == 2 and (bio[s.start + 1:s.end] == 1).all()


def test_dictionary_has_every_sign_once_per_language_in_citation_form(corpus_dir):
    entries = load_dictionary(corpus_dir)
    assert len(entries) == 4 * 40
    by_lang = Counter(e.language for e in entries)
    assert set(by_lang.values()) == {40}
    for e in entries[:10]:
        assert len(e.segments) == 1 and e.segments[0].start > 0 and e.segments[0].end < e.num_frames


def test_asl_and_bsl_share_text_but_not_their_signing(corpus_dir):
    asl = read_signspark(corpus_dir / "dictionary" / "ASL" / "i.npz")
    bsl = read_signspark(corpus_dir / "dictionary" / "BSL" / "i.npz")
    assert asl.text == bsl.text  # the same English word
    lex = (corpus_dir / "lexicon.csv").read_text().splitlines()
    rows = {tuple(line.split(",")[:2]): line.split(",", 3)[3] for line in lex[1:]}
    keys = {k for (lang, k) in rows if lang == "ASL"}
    differ = sum(rows[("ASL", k)] != rows[("BSL", k)] for k in keys)
    assert differ > len(keys) / 2  # most BSL signs are not ASL's


def test_lexicon_csv_gives_every_sign_its_frequency_rank_and_styles_their_reduction(corpus_dir):
    rows = list(csv.DictReader(io.StringIO((corpus_dir / "lexicon.csv").read_text())))
    for lang in SPEC.languages:
        ranks = sorted(int(r["frequency_rank"]) for r in rows if r["language"] == lang)
        assert ranks == list(range(1, 41))
    styles = list(csv.DictReader(io.StringIO((corpus_dir / "styles.csv").read_text())))
    assert all(0.0 <= float(r["reduction"]) <= 1.0 for r in styles) and len({r["reduction"] for r in styles}) > 1


def test_sentences_draw_frequent_signs_more_often(tmp_path):
    spec = SynthSpec(signers_per_language=1, sentences_per_signer=30, signs_per_language=80, languages=("DGS",),
                     seed=3)
    counts = {}
    for s in (0.0, 2.0):
        out = generate_corpus(tmp_path / str(s), SynthSpec(**{**spec.__dict__, "zipf_exponent": s}), progress=False)
        rows = list(csv.DictReader(io.StringIO((out / "lexicon.csv").read_text())))
        rank = {r["gloss"]: int(r["frequency_rank"]) for r in rows}
        glosses = [g for p in sorted((out / "clips").glob("*.npz")) for g in read_signspark(p).glosses]
        counts[s] = (len(set(glosses)), np.mean([rank[g] <= 20 for g in glosses]))
    assert counts[2.0][0] < counts[0.0][0]           # fewer sign types ...
    assert counts[2.0][1] > counts[0.0][1] + 0.2     # ... and more tokens of the 20 most frequent signs


def test_unknown_language_and_negative_zipf_exponent_are_refused():
    with pytest.raises(SignlibError, match="unknown sign language 'LSF'"):
        SynthSpec(1, 1, 10, languages=("ASL", "LSF"))
    with pytest.raises(SignlibError, match="zipf_exponent"):
        SynthSpec(1, 1, 10, zipf_exponent=-0.5)
