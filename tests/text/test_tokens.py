"""The checks every text-reading entry point shares: texts, languages, and whole-number arguments."""

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.text.counts import count
from signlib.text.tokens import LANGUAGE_IDS, check_language, check_text, encode_texts, text_ids, text_requests
from signlib.text.words import TextVocab, split_text


def _one_line(info) -> str:
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("text, message", [
    (b"Hello", r"^t2p: texts\[1\]: must be str, got bytes \(decode it first"),
    (bytearray(b"Hi"), r"^t2p: texts\[1\]: must be str, got bytearray"),
    (None, r"^t2p: texts\[1\]: must be str, got NoneType$"),
    (42, r"^t2p: texts\[1\]: must be str, got int$"),
    ("  \n", r"^t2p: texts\[1\]: text is empty"),
    ("ok \ud800 no", r"^t2p: texts\[1\]: character '\\ud800' at position 3 cannot be encoded as UTF-8"),
    ("\udcff", r"position 0 cannot be encoded"),
])
def test_check_text_names_the_argument_and_what_is_wrong(text, message):
    with pytest.raises(SignlibError, match=message) as info:
        check_text(text, "t2p: texts[1]")
    _one_line(info)


def test_check_text_passes_any_real_sentence():
    for text in ("Hi.", "周六汤姆在哪里出售球？", "Grüße 👋", " padded "):
        assert check_text(text) == text


def test_the_byte_tokenizer_refuses_a_lone_surrogate_instead_of_crashing():
    with pytest.raises(SignlibError, match=r"^texts\[1\]: character '\\ud800' at position 2"):
        encode_texts(["fine", "ab\ud800"], ["ASL", "ASL"])
    with pytest.raises(SignlibError, match=r"^texts\[0\]: must be str, got bytes"):
        encode_texts([b"Hello"], ["ASL"])
    with pytest.raises(SignlibError, match="not strings"):      # list("Hi") would be two texts
        encode_texts("Hi", ["ASL", "ASL"])
    with pytest.raises(SignlibError, match=r"^text: .* over max_bytes=4"):
        text_ids("Hello", "ASL", max_bytes=4)
    assert encode_texts([None, "a"], ["ASL", "BSL"])[0].tolist() == [[261, 256], [LANGUAGE_IDS["BSL"], 97]]


def test_text_requests_checks_every_entry_and_names_it():
    assert text_requests("gen", ("a", "b"), ["ASL", "DGS"]) == (["a", "b"], ["ASL", "DGS"])
    cases = [
        (("gen", b"Hello", ["ASL"]), "gen: texts and languages must be lists"),
        (("gen", ["a"], b"ASL"), "gen: texts and languages must be lists"),
        (("gen", 5, ["ASL"]), "gen: texts and languages must be lists .*got int and list"),
        (("gen", ["a", b"b"], ["ASL", "ASL"]), r"gen: texts\[1\]: must be str, got bytes"),
        (("gen", ["a", "x\ud800"], ["ASL", "ASL"]), r"gen: texts\[1\]: character '\\ud800' at position 1"),
        (("gen", ["a"], [["ASL"]]), r"gen: languages\[0\]: unknown sign language \['ASL'\]"),
        (("gen", [], []), "need as many texts as languages"),
    ]
    for args, message in cases:
        with pytest.raises(SignlibError, match=message) as info:
            text_requests(*args)
        _one_line(info)


def test_check_language_refuses_unhashable_values_with_a_clear_error():
    with pytest.raises(SignlibError, match=r"unknown sign language \['ASL'\]"):
        check_language(["ASL"])


@pytest.mark.parametrize("value", [12, np.int64(12), np.int32(12), np.uint8(12), torch.tensor(12)])
def test_count_accepts_whole_numbers(value):
    n = count(value, "num_frames")
    assert n == 12 and type(n) is int


@pytest.mark.parametrize("value, message", [
    (12.5, r"^t2p: num_frames\[0\]: must be an integer, got 12.5 \(float\)$"),
    (12.0, r"must be an integer, got 12.0 \(float\)"),            # a float length is a bug upstream
    (np.float64(12.0), r"must be an integer, got .*float64"),
    (torch.tensor(12.0), r"must be an integer, got .*Tensor"),
    (torch.tensor([12]), r"must be an integer, got .*Tensor"),
    (True, r"must be an integer, got True \(bool\)"),             # a flag is not a length
    ("12", r"must be an integer, got '12' \(str\)"),
    (None, r"must be an integer, got None"),
    (0, r"^t2p: num_frames\[0\]=0 is outside \[1, 64\] \(the trained maximum\)$"),
    (65, r"=65 is outside \[1, 64\]"),
])
def test_count_refuses_fractions_flags_and_out_of_range(value, message):
    with pytest.raises(SignlibError, match=message) as info:
        count(value, "t2p: num_frames[0]", 1, 64, " (the trained maximum)")
    _one_line(info)


def test_count_with_one_bound():
    assert count(-5, "seed", None) == -5
    with pytest.raises(SignlibError, match="^batch_size=0 must be >= 1$"):
        count(0, "batch_size")
    with pytest.raises(SignlibError, match="^x=9 must be <= 8$"):
        count(9, "x", None, 8)


def test_the_word_tokenizer_refuses_bytes_and_the_vocabulary_unencodable_text():
    with pytest.raises(SignlibError, match="text: must be str, got bytes"):
        split_text(b"Hello world")
    assert split_text("a\ud800b") == ["a", "\ud800", "b"]        # no UTF-8 involved: nothing to refuse
    with pytest.raises(SignlibError, match=r"TextVocab.build: texts\[1\]: character '\\ud800' at position 0"):
        TextVocab.build(["fine", "\ud800 bad"])


def test_vocabularies_refuse_words_utf8_cannot_hold():
    from signlib.text.glosses import GlossVocab

    with pytest.raises(SignlibError, match=r"GlossVocab: gloss '\\ud800' cannot be encoded as UTF-8"):
        GlossVocab.from_dict({"glosses": ["CAT", "\ud800"]})
    with pytest.raises(SignlibError, match=r"TextVocab: word '\\udcff' cannot be encoded as UTF-8"):
        TextVocab.from_dict({"words": ["cat", "\udcff"]})
