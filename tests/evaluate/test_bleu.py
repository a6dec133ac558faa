"""BLEU-4 rows: sacreBLEU's numbers per language, Chinese by character, a consistent ``all`` row,
the relative drop, and one-line errors."""

import math

import pytest
from sacrebleu.metrics import BLEU

from signlib.errors import SignlibError
from signlib.evaluate.bleu import bleu_rows, corpus_bleu, relative_drop, tokenizer_name

REFS = [
    ("Her tea is cold.", "ASL"),
    ("Does the friend like the coffee at the weekend?", "ASL"),
    ("Who will fly to Japan tomorrow?", "BSL"),
    ("Later, the man will fall.", "BSL"),
    ("Braucht Sarah ein Ei?", "DGS"),
    ("Abends versteht die Oma einen Doktor.", "DGS"),
    ("索菲有衬衫。", "CSL"),
    ("周六汤姆在哪里出售球？", "CSL"),
]
# Partly right back-translations: some words and characters wrong, one sentence too short.
HYPS = ["Her tea is warm.", "Does the friend like coffee at the weekend?", "Who will fly to Japan?",
        "Later, the woman will fall.", "Braucht Sarah ein Brot?", "Abends sieht die Oma einen Doktor.",
        "索菲有衬衬。", "周六汤姆在哪出售书？"]
REFERENCES, LANGUAGES = [r for r, _ in REFS], [lang for _, lang in REFS]


def by_language(rows):
    return {row["language"]: row for row in rows}


def test_rows_have_one_row_per_language_sorted_then_all():
    rows = bleu_rows(HYPS, REFERENCES, LANGUAGES)
    assert [r["language"] for r in rows] == ["ASL", "BSL", "CSL", "DGS", "all"]
    assert all(set(r) == {"language", "sentences", "bleu4"} for r in rows)
    assert [r["sentences"] for r in rows] == [2, 2, 2, 2, 8]
    assert all(0 < r["bleu4"] < 100 for r in rows)


def test_identical_texts_score_100_and_unrelated_texts_score_0():
    same = by_language(bleu_rows(REFERENCES, REFERENCES, LANGUAGES))
    assert all(row["bleu4"] == pytest.approx(100.0) for row in same.values())
    # No shared token (not even the full stop: with sacreBLEU's default exp smoothing, matching
    # punctuation alone is worth a few points).
    unrelated = ["Xylophones orbit purple gravel quietly"] * 6 + ["蓝色月亮唱歌", "狗跑步"]
    assert all(row["bleu4"] == pytest.approx(0.0, abs=1e-6) for row in bleu_rows(unrelated, REFERENCES, LANGUAGES))


def test_chinese_is_scored_by_character():
    # One character of six changed: n-gram precisions 5/6, 3/5, 2/4, 1/3, equal lengths (BP = 1).
    row = by_language(bleu_rows(["索菲有衬衬。"], ["索菲有衬衫。"], ["CSL"]))["CSL"]
    expected = 100 * (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25
    assert row["bleu4"] == pytest.approx(expected)                      # 53.73
    # Scored as words (13a), the whole sentence is one unmatched token.
    assert corpus_bleu(["索菲有衬衬。"], ["索菲有衬衫。"], "13a") == pytest.approx(0.0)


@pytest.mark.parametrize("language", ["ASL", "BSL", "DGS", "CSL"])
def test_pretokenised_scoring_equals_sacrebleu_per_language(language):
    sel = [k for k, lang in enumerate(LANGUAGES) if lang == language]
    hyps, refs = [HYPS[k] for k in sel], [REFERENCES[k] for k in sel]
    native = BLEU(tokenize=tokenizer_name(language)).corpus_score(hyps, [refs]).score
    tok = BLEU(tokenize=tokenizer_name(language)).tokenizer
    assert corpus_bleu([tok(h) for h in hyps], [tok(r) for r in refs], "none") == pytest.approx(native, abs=1e-9)
    rows = by_language(bleu_rows(hyps, refs, [language] * len(sel)))
    assert rows[language]["bleu4"] == pytest.approx(native, abs=1e-9)
    assert rows["all"]["bleu4"] == pytest.approx(native, abs=1e-9)   # one language: "all" is that language


def test_all_row_pools_ngram_counts_not_scores():
    rows = by_language(bleu_rows(HYPS, REFERENCES, LANGUAGES))
    per_language = [rows[lang]["bleu4"] for lang in ("ASL", "BSL", "CSL", "DGS")]
    assert min(per_language) <= rows["all"]["bleu4"] <= max(per_language)
    # Order of the sentences does not matter.
    order = list(reversed(range(len(HYPS))))
    again = by_language(bleu_rows([HYPS[k] for k in order], [REFERENCES[k] for k in order],
                                  [LANGUAGES[k] for k in order]))
    assert again["all"]["bleu4"] == pytest.approx(rows["all"]["bleu4"])


def test_pretokenised_all_row_logs_no_detokenise_warning(caplog):
    # Over 100 pre-tokenised lines end in " ."; sacreBLEU would otherwise warn to detokenise them.
    bleu_rows(HYPS * 40, REFERENCES * 40, LANGUAGES * 40)
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_relative_drop():
    assert relative_drop(30.0, 40.0) == pytest.approx(25.0)
    assert relative_drop(40.0, 40.0) == 0.0
    assert relative_drop(50.0, 40.0) == pytest.approx(-25.0)            # better than the upper bound
    assert math.isnan(relative_drop(0.0, 0.0)) and math.isnan(relative_drop(5.0, 0.0))


def test_bad_input_gives_one_line_errors():
    with pytest.raises(SignlibError, match="2 hypotheses, 1 references and 2 languages"):
        bleu_rows(["a", "b"], ["a"], ["ASL", "ASL"])
    with pytest.raises(SignlibError, match="empty"):
        bleu_rows([], [], [])
    with pytest.raises(SignlibError, match="not a string"):
        bleu_rows("a b", "a b", "ASL")
    with pytest.raises(SignlibError, match="unknown sign language 'LSF'"):
        bleu_rows(["a"], ["a"], ["LSF"])
    with pytest.raises(SignlibError, match=r"hypotheses\[1\]"):
        bleu_rows(["a", None], ["a", "b"], ["ASL", "ASL"])
