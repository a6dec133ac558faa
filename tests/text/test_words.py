"""The back-translation decoder's word vocabulary: BLEU-like tokens (Chinese by character),
truecased decoding, readable joining, and one-line errors for reserved or repeated words."""

import json

import pytest

from signlib.errors import SignlibError
from signlib.text.words import TextVocab, join_tokens, tokenize


def test_vocab_round_trip_english_and_chinese():
    vocab = TextVocab.build(["Does Peter ask a doctor?", "Peter is cold.", "Braucht Sarah ein Ei?",
                             "Der Koch liest eine E-Mail.", "周六汤姆在哪里出售球？"])
    assert tokenize("Does Peter ask a doctor?") == ["does", "peter", "ask", "a", "doctor", "?"]
    assert tokenize("周六汤姆？") == ["周", "六", "汤", "姆", "？"]
    assert tokenize("eine E-Mail.") == ["eine", "e-mail", "."]
    for text, lang in [("Does Peter ask a doctor?", "ASL"), ("Peter is cold.", "BSL"),
                       ("Der Koch liest eine E-Mail.", "DGS"), ("周六汤姆在哪里出售球？", "CSL")]:
        ids = vocab.encode(text, lang, eos=True)
        assert ids[0] == vocab.language_id(lang) and ids[-1] == TextVocab.EOS and TextVocab.UNK not in ids
        assert vocab.decode(ids) == text                                  # truecased, readable
    again = TextVocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.tokens == vocab.tokens and again.cased == vocab.cased
    assert vocab.decode(vocab.encode("Peter fliegt.", "DGS")) == "Peter <unk>."
    assert len({vocab.language_id(lang) for lang in ("ASL", "BSL", "DGS", "CSL")}) == 4
    assert "peter" in vocab and "<CSL>" not in vocab and "<pad>" not in vocab


def test_join_tokens_spaces_words_and_glues_chinese_and_punctuation():
    assert join_tokens(["later", ",", "the", "man", "falls", "."]) == "later, the man falls."
    assert join_tokens(["周", "六", "Peter", "在", "？"]) == "周六Peter在？"
    assert join_tokens([]) == ""


def test_vocab_rejects_reserved_and_duplicate_words():
    with pytest.raises(SignlibError, match="words must be unique"):
        TextVocab(["a", "a"])
    with pytest.raises(SignlibError, match="none of the special or language tokens"):
        TextVocab(["<ASL>"])
    with pytest.raises(SignlibError):
        TextVocab.from_dict({"tokens": []})
