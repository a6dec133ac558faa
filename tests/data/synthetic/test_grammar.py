"""The synthetic corpus's words: vocabulary, gloss labels and (text, gloss) sentences."""

from __future__ import annotations

import collections
import functools

import numpy as np
import pytest

from signlib.data.synthetic import grammar, templates
from signlib.data.synthetic.grammar import (SPOKEN, gloss_label, load_vocabulary, make_sentence, parse_vocabulary,
                                            text_to_content_words, word_to_concept)
from signlib.data.synthetic.lexicon import frequency_ranks, zipf_weights
from signlib.data.synthetic.templates import english_third_person, german_present
from signlib.errors import SignlibError

LANGUAGES = tuple(SPOKEN)
SEEDS = (0, 1, 2)


@functools.lru_cache(maxsize=None)
def sentences(language: str, seed: int, n: int = 200) -> tuple[grammar.Sentence, ...]:
    rng = np.random.default_rng(seed)
    return tuple(make_sentence(rng, language) for _ in range(n))


def text_order(s: grammar.Sentence, language: str) -> list[str]:
    return [word_to_concept(w, language) for w in s.words]


# --- vocabulary and labels -----------------------------------------------------------------------------
def test_vocabulary_has_at_least_330_concepts_with_unique_keys_and_known_pos():
    vocab = load_vocabulary()
    keys = [c.key for c in vocab]
    assert len(vocab) >= 330
    assert len(set(keys)) == len(keys)
    assert {c.pos for c in vocab} <= grammar.POS
    assert set("i you he she we they what where who when why how not no".split()) <= set(keys)


@pytest.mark.parametrize("spoken", ["en", "de", "zh"])
def test_at_least_30_concepts_have_synonyms_in_each_spoken_language(spoken):
    assert sum(len(c.words[spoken]) > 1 for c in load_vocabulary()) >= 30


@pytest.mark.parametrize("language", LANGUAGES)
def test_gloss_labels_are_unique_per_language(language):
    labels = [gloss_label(c, language) for c in load_vocabulary()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("language, label", [("ASL", "HOUSE"), ("BSL", "HOUSE"), ("DGS", "HAUS"), ("CSL", "房子")])
def test_gloss_label_is_the_canonical_word_of_the_glossing_language(language, label):
    assert gloss_label("house", language) == label
    assert gloss_label(grammar._lexicon()["ice_cream"], "ASL") == "ICE-CREAM"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_vocabulary_word_maps_back_to_its_own_concept(language):
    spoken = SPOKEN[language]
    for c in load_vocabulary():
        for word in c.words[spoken]:
            assert word_to_concept(word, language) == c.key, word
            assert word_to_concept(word.upper() if spoken != "zh" else word, language) == c.key


def test_every_common_german_noun_has_a_gender_and_every_noun_a_semantic_class():
    classed = {k for words in templates.CLASSES.values() for k in words.split()}
    for c in load_vocabulary():
        if c.pos == "noun":
            assert c.key in classed, c.key
        if c.pos == "noun" and c.key not in templates.BARE or c.pos == "place" and c.words["en"][0].islower():
            assert all(w in templates.GENDER_DE for w in c.words["de"]), c.key


@pytest.mark.parametrize("bad_row, message", [
    ("house\tnoun\thouse\tHaus", "expected 5"),
    ("House\tnoun\thouse\tHaus\t房子", "key"),
    ("house\tthing\thouse\tHaus\t房子", "part of speech"),
    ("house\tnoun\thouse||home\tHaus\t房子", "empty"),
])
def test_malformed_vocabulary_row_raises_one_line_error_naming_file_and_line(bad_row, message):
    text = "key\tpos\ten\tde\tzh\ncat\tnoun\tcat\tKatze\t猫\n" + bad_row + "\n"
    with pytest.raises(SignlibError, match=message) as err:
        parse_vocabulary(text, "vocab.tsv")
    assert "vocab.tsv:3" in str(err.value) and "\n" not in str(err.value)


# --- sentences -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_glosses_cover_exactly_the_content_words_of_the_text(language, seed):
    for s in sentences(language, seed):
        words = text_to_content_words(s.text, language)
        assert tuple(words) == s.words, s.text
        assert collections.Counter(word_to_concept(w, language) for w in words) == collections.Counter(s.concepts)
        assert s.glosses == tuple(gloss_label(k, language) for k in s.concepts)


@pytest.mark.parametrize("language, function_words", [
    ("ASL", ["the", "a", "an", "is", "are", "am", "do", "does", "will", "to", "in", "at", "on"]),
    ("DGS", ["der", "die", "das", "den", "ein", "eine", "einen", "ist", "sind", "nach", "in", "im", "zum", "am"]),
    ("CSL", ["的", "了", "是", "在", "吗", "很", "个", "到"]),
])
def test_function_words_have_no_gloss(language, function_words):
    assert all(word_to_concept(w, language) is None for w in function_words)
    glossed = {k for seed in SEEDS for s in sentences(language, seed) for k in s.concepts}
    assert not glossed & {"the", "is", "der", "ist"}


@pytest.mark.parametrize("language, min_share", [("ASL", 0.2), ("BSL", 0.4), ("DGS", 0.4), ("CSL", 0.2)])
def test_sign_order_often_differs_from_text_order(language, min_share):
    batch = sentences(language, 0)
    differ = sum(list(s.concepts) != text_order(s, language) for s in batch)
    assert differ / len(batch) >= min_share


def test_dgs_puts_the_verb_after_its_object_and_negation_after_the_verb():
    lexicon = grammar._lexicon()
    checked = 0
    for s in sentences("DGS", 1):
        kinds = [lexicon[k].pos for k in s.concepts]
        core = [p for p in kinds if p not in ("neg", "question")]
        if "verb" in core:
            assert core[-1] == "verb", s.text
            checked += 1
        if "neg" in kinds:
            assert kinds.index("neg") > max(i for i, p in enumerate(kinds) if p in ("verb", "adj")), s.text
    assert checked > 50


@pytest.mark.parametrize("language", LANGUAGES)
def test_wh_word_is_signed_last(language):
    lexicon = grammar._lexicon()
    asked = [s for s in sentences(language, 2) if any(lexicon[k].pos == "question" for k in s.concepts)]
    assert len(asked) > 10
    assert all(lexicon[s.concepts[-1]].pos == "question" for s in asked)


@pytest.mark.parametrize("seed", SEEDS)
def test_asl_and_bsl_say_the_same_english_but_sign_it_in_different_orders(seed):
    asl, bsl = sentences("ASL", seed), sentences("BSL", seed)
    assert [s.text for s in asl] == [s.text for s in bsl]
    assert all(sorted(a.concepts) == sorted(b.concepts) for a, b in zip(asl, bsl))
    assert sum(a.glosses != b.glosses for a, b in zip(asl, bsl)) >= len(asl) // 5


@pytest.mark.parametrize("language", LANGUAGES)
def test_synonyms_really_occur_in_texts(language):
    lexicon, spoken = grammar._lexicon(), SPOKEN[language]
    batch = sentences(language, 0)
    non_canonical = [w for s in batch for w, k in zip(s.words, text_order(s, language))
                     if w.lower() in {x.lower() for x in lexicon[k].words[spoken][1:]}]
    assert len(non_canonical) >= 10


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_seed_gives_the_same_sentences(language):
    first = [make_sentence(np.random.default_rng(9), language) for _ in range(3)]
    rng_a, rng_b = np.random.default_rng(5), np.random.default_rng(5)
    assert [make_sentence(rng_a, language) for _ in range(30)] == [make_sentence(rng_b, language) for _ in range(30)]
    assert first[0] == first[1] == first[2]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_sentences_are_3_to_8_signs_and_punctuated_like_the_spoken_language(language, seed):
    for s in sentences(language, seed):
        assert 3 <= len(s.glosses) <= 8
        if language == "CSL":
            assert " " not in s.text and s.text[-1] in "。？"
        else:
            assert s.text[0].isupper() and s.text[-1] in ".?"


def test_chinese_yes_no_questions_end_in_ma_which_has_no_sign():
    questions = [s for s in sentences("CSL", 0) if s.text.endswith("吗？")]
    assert questions and all(len(s.glosses) == len(s.words) for s in questions)


def test_restricted_concepts_are_the_only_ones_used():
    vocab = load_vocabulary()
    core = [c for c in vocab if c.pos in ("pron", "question", "neg")]
    rest = [c for c in vocab if c.pos not in ("pron", "question", "neg")]
    for seed in range(5):
        picks = np.random.default_rng(seed).choice(len(rest), 40, replace=False)
        allowed = core + [rest[i] for i in picks]
        rng = np.random.default_rng(seed)
        for language in LANGUAGES:
            for _ in range(50):
                assert set(make_sentence(rng, language, allowed).concepts) <= {c.key for c in allowed}


def _counts(language: str, weights, n: int = 300) -> collections.Counter:
    rng = np.random.default_rng(0)
    return collections.Counter(k for _ in range(n) for k in make_sentence(rng, language, None, weights).concepts)


@pytest.mark.parametrize("language", ["ASL", "CSL"])
def test_zipf_weights_concentrate_the_draws_on_the_frequent_concepts(language):
    ranks = frequency_ranks(load_vocabulary(), language, seed=0)
    zipf, uniform = _counts(language, zipf_weights(ranks, 2.0)), _counts(language, None)
    assert len(zipf) < 0.75 * len(uniform)                          # fewer types for as many sentences
    top = lambda c: sum(v for _, v in c.most_common(20)) / sum(c.values())  # noqa: E731
    assert top(zipf) > top(uniform) + 0.15
    # within a pool the better-ranked concept wins: the most frequent pronoun is the most used one
    pronouns = [k for k, r in sorted(ranks.items(), key=lambda kv: kv[1]) if k in templates.SUBJECT_PRONOUNS]
    assert zipf[pronouns[0]] > zipf[pronouns[-1]]


def test_weights_must_cover_every_concept():
    with pytest.raises(SignlibError, match="no frequency weight for concept"):
        make_sentence(np.random.default_rng(0), "DGS", None, {"i": 1.0})


def test_unknown_language_and_unfillable_concept_sets_raise_signlib_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(SignlibError, match="unknown sign language"):
        make_sentence(rng, "LSF")
    pronouns = [c for c in load_vocabulary() if c.pos == "pron"]
    with pytest.raises(SignlibError, match="concepts"):
        make_sentence(rng, "ASL", pronouns)
    with pytest.raises(SignlibError, match="Generator"):
        make_sentence(0, "ASL")


# --- inflection helpers --------------------------------------------------------------------------------
@pytest.mark.parametrize("verb, forms", [
    ("arbeiten", ("arbeite", "arbeitest", "arbeitet", "arbeiten", "arbeiten")),
    ("öffnen", ("öffne", "öffnest", "öffnet", "öffnen", "öffnen")),
    ("tanzen", ("tanze", "tanzt", "tanzt", "tanzen", "tanzen")),
    ("wandern", ("wandere", "wanderst", "wandert", "wandern", "wandern")),
    ("lernen", ("lerne", "lernst", "lernt", "lernen", "lernen")),
    ("essen", ("esse", "isst", "isst", "essen", "essen")),
])
def test_german_present_tense(verb, forms):
    assert german_present(verb) == forms


@pytest.mark.parametrize("verb, form", [("eat", "eats"), ("watch", "watches"), ("fly", "flies"), ("play", "plays"),
                                        ("go", "goes"), ("have", "has")])
def test_english_third_person_singular(verb, form):
    assert english_third_person(verb) == form
