"""Corpus statistics from the index: how often test signs were seen in training."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from signlib.data.corpus import write_corpus
from signlib.data.sequence import Sequence
from signlib.data.stats import language_stats, sign_frequency


def _clip(language, split, *glosses):
    return SimpleNamespace(language=language, split=split, glosses=tuple(glosses))


def _by_language(rows):
    return {r["language"]: r for r in rows}


def test_test_tokens_are_counted_against_their_own_languages_training_split():
    clips = [_clip("ASL", "train", "A", "A", "B"), _clip("ASL", "train", "A"),
             _clip("ASL", "val", "C", "C", "C"),          # validation signs are not training signs
             _clip("ASL", "test", "A", "B", "C"),
             _clip("DGS", "train", "C", "C", "C"),        # DGS's C is not ASL's C
             _clip("DGS", "test", "C", "A")]
    rows = _by_language(sign_frequency(clips))
    asl = rows["ASL"]
    # ASL test tokens were seen 3 (A), 1 (B) and 0 (C) times in ASL training.
    assert (asl["tokens"], asl["types"], asl["train_tokens"], asl["test_tokens"]) == (10, 3, 4, 3)
    assert asl["test_median_seen"] == 1.0
    assert asl["test_rare_pct"] == pytest.approx(200 / 3) and asl["test_unseen_pct"] == pytest.approx(100 / 3)
    dgs = rows["DGS"]
    assert dgs["test_median_seen"] == 1.5 and dgs["test_unseen_pct"] == 50.0 and dgs["test_rare_pct"] == 50.0
    every = rows["all"]  # pooled over languages, each token against its own language
    assert every["test_tokens"] == 5 and every["test_median_seen"] == 1.0
    assert every["types"] == asl["types"] + dgs["types"]  # (language, gloss) pairs: DGS's C is another type
    assert every["test_unseen_pct"] == pytest.approx(40.0) and every["test_rare_pct"] == pytest.approx(60.0)


def test_frequent_signs_give_a_high_median_and_no_rare_tokens():
    clips = [_clip("BSL", "train", *["X"] * 20, *["Y"] * 12), _clip("BSL", "test", "X", "Y", "X")]
    row = _by_language(sign_frequency(clips))["BSL"]
    assert row["test_median_seen"] == 20.0 and row["test_rare_pct"] == 0.0 and row["test_unseen_pct"] == 0.0


def test_a_language_without_test_clips_reports_nan_not_zero():
    row = _by_language(sign_frequency([_clip("CSL", "train", "A", "B")]))["CSL"]
    assert row["test_tokens"] == 0 and row["tokens"] == 2
    assert all(math.isnan(row[k]) for k in ("test_median_seen", "test_rare_pct", "test_unseen_pct"))


def test_sign_frequency_reads_a_corpus_index(tmp_path):
    def seq(sid, signer, glosses):
        return Sequence(features=np.zeros((8, 147), np.float32), layout="xyz_mediapipe", fps=25, language="DGS",
                        signer=signer, id=sid, segments=[(2 * i, 2 * i + 1, g) for i, g in enumerate(glosses)])

    corpus = write_corpus(tmp_path, [seq("a", "s1", ["HAUS", "HAUS"]), seq("b", "s2", ["HAUS", "AUTO"])],
                          {"s1": "train", "s2": "test"})
    row = _by_language(sign_frequency(corpus.clips))["DGS"]
    assert (row["test_median_seen"], row["test_unseen_pct"]) == (1.0, 50.0)
    assert _by_language(language_stats(corpus))["DGS"]["vocabulary"] == row["types"] == 2
