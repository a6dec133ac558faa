"""Text-to-gloss: vocabulary, overfitting a handful of sentences through the shared training loop,
save/load, and one-line errors for bad input."""

import json

import numpy as np
import pytest
import torch

from signlib.checkpoint import save_model
from signlib.errors import SignlibError
from signlib.generate.configs import Text2GlossConfig
from signlib.generate.text2gloss import (Text2Gloss, Translator, load_text2gloss, make_loss, make_sampler,
                                         save_text2gloss_card, translate)
from signlib.text import tokens
from signlib.text.glosses import GlossVocab
from signlib.train import TrainConfig, train
from signlib.validate import InvalidValue

# Reordered, function words dropped, synonyms (GRANDMOTHER), German and Chinese text.
PAIRS = [
    ("Who will fly to Japan tomorrow?", "BSL", ["TOMORROW", "JAPAN", "FLY", "WHO"]),
    ("Her tea is cold.", "ASL", ["HER", "TEA", "COLD"]),
    ("Where does the grandma speak Spanish at night?", "ASL", ["NIGHT", "GRANDMOTHER", "SPEAK", "SPANISH", "WHERE"]),
    ("Her tea is cold.", "BSL", ["TEA", "HER", "COLD"]),
    ("Morgen kauft der Vater kein Brot.", "DGS", ["MORGEN", "VATER", "BROT", "KAUFEN", "NICHT"]),
    ("星期一谁寄照片？", "CSL", ["星期一", "寄", "照片", "谁"]),
]
TINY = Text2GlossConfig(d_model=64, encoder_layers=1, decoder_layers=1, heads=4, ff=128, dropout=0.0,
                        max_bytes=64, max_glosses=8)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    vocab = GlossVocab.build([g for _, _, g in PAIRS])
    torch.manual_seed(0)
    model = Text2Gloss(TINY, vocab)
    folder = tmp_path_factory.mktemp("t2g")
    config = TrainConfig(steps=150, batch_size=12, lr=3e-3, warmup_steps=20, log_every=50)
    # One thread: a model this small gains nothing from two, and when another process holds the
    # second core, two threads spin-wait on each other (a 2-second fit took minutes).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(model, make_loss(label_smoothing=0.0), make_sampler(PAIRS, vocab, 12, max_bytes=64, max_glosses=8),
              config, folder, progress=False)
    finally:
        torch.set_num_threads(threads)
    save_text2gloss_card(folder, model, vocab)
    return model, vocab, folder


def test_vocab_round_trip_and_specials():
    vocab = GlossVocab.build([["B", "A"], ["A", "C"], ["谁"]])
    assert vocab.glosses == ("A", "B", "C", "谁")           # most frequent first, ties alphabetical
    ids = vocab.encode(["A", "谁", "ZZZ"], bos=True, eos=True)
    assert ids == [GlossVocab.BOS, 4, 7, GlossVocab.UNK, GlossVocab.EOS]
    assert vocab.decode(ids + [5, 6]) == ["A", "谁", "<unk>"]   # stops at EOS
    again = GlossVocab.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.tokens == vocab.tokens and "A" in again and "<pad>" not in again
    assert GlossVocab.build([["A", "B"], ["A"]], min_count=2).glosses == ("A",)
    with pytest.raises(SignlibError):
        GlossVocab(["A", "A"])
    with pytest.raises(SignlibError):
        GlossVocab.from_dict({"tokens": []})


def test_config_validation():
    with pytest.raises(InvalidValue, match="Text2GlossConfig: heads=4 must divide d_model=130"):
        Text2GlossConfig(d_model=130, heads=4)
    with pytest.raises(InvalidValue, match="Text2GlossConfig: dropout=1.0 must be a number in"):
        Text2GlossConfig(dropout=1.0)
    with pytest.raises(InvalidValue, match="Text2GlossConfig: max_glosses=0 must be an integer >= 1"):
        Text2GlossConfig(max_glosses=0)
    with pytest.raises(InvalidValue, match="Text2GlossConfig: ngram_buckets=2.5 must be an integer"):
        Text2GlossConfig(ngram_buckets=2.5)


def test_copy_matrix_finds_spellings_in_the_text():
    vocab = GlossVocab.build([["MILK", "OUR", "HEUTE-ABEND", "照片"]])
    model = Text2Gloss(TINY, vocab)
    ids, _ = tokens.encode_texts(["Milk for four", "heute Abend", "寄照片"], ["ASL", "DGS", "CSL"])
    copy = model.copy_matrix(ids)                                            # (3, L, V)
    mass = copy.sum(1)                                                       # (3, V): 1 per full occurrence
    col = {g: vocab.encode([g])[0] for g in vocab.glosses}
    assert mass[0, col["MILK"]] == pytest.approx(1.0)
    assert mass[0, col["OUR"]] == pytest.approx(0.5)             # "our" in "four" lacks the word start " ou"
    assert mass[1, col["HEUTE-ABEND"]] == pytest.approx(1.0) and mass[2, col["照片"]] == pytest.approx(1.0)
    assert mass[1, col["MILK"]] == 0 and mass[0, col["照片"]] == 0
    assert (copy[:, :, :len(GlossVocab.SPECIALS)] == 0).all()


def test_sampler_is_pure_and_shifts_targets():
    vocab = GlossVocab.build([g for _, _, g in PAIRS])
    sample = make_sampler(PAIRS, vocab, 5)
    a, b = sample(3, np.random.default_rng([0, 3])), sample(3, np.random.default_rng([0, 3]))
    for key in a:
        assert torch.equal(a[key], b[key])
    assert (a["gloss_in"][:, 0] == GlossVocab.BOS).all()
    torch.testing.assert_close(a["gloss_in"][:, 1:], a["gloss_out"][:, :-1])
    assert ((a["gloss_out"] == GlossVocab.EOS).sum(1) == 1).all()
    assert a["id_mask"].any(1).all() and a["id_mask"][:, -1].any()          # trimmed to the batch's longest
    model = Text2Gloss(TINY, vocab)
    assert model(a["ids"], a["id_mask"], a["gloss_in"]).shape == (*a["gloss_in"].shape, len(vocab))


def test_overfit_reproduces_every_training_sentence(trained):
    model, vocab, _ = trained
    texts, languages, glosses = zip(*PAIRS)
    assert translate(model, vocab, texts, languages) == [list(g) for g in glosses]
    assert model.training                                                   # translate restores the mode
    assert translate(model, vocab, texts, languages, max_glosses=2) == [list(g[:2]) for g in glosses]
    assert translate(model, vocab, [], []) == []


def test_translator_is_the_callable_retrieval_takes(trained):
    model, vocab, _ = trained
    texts, languages, glosses = zip(*PAIRS)
    translator = Translator(model, vocab)
    assert translator(texts, languages) == [list(g) for g in glosses]      # tuples are fine: lists are made
    assert translator(["Her tea is cold."], ["ASL"]) == [["HER", "TEA", "COLD"]]
    with pytest.raises(SignlibError, match="languages"):
        translator(["Hello.", "Hi."], ["ASL"])


def test_save_load_round_trip(trained):
    model, vocab, folder = trained
    card = json.loads((folder / "model.json").read_text())
    assert card["format"] == "signlib.text2gloss/1" and Text2GlossConfig(**card["config"]) == TINY
    assert GlossVocab.from_dict(card["vocab"]).tokens == vocab.tokens
    loaded, loaded_vocab = load_text2gloss(folder)
    assert loaded.config == TINY and loaded_vocab.tokens == vocab.tokens and not loaded.training
    texts, languages, _ = zip(*PAIRS)
    assert translate(loaded, loaded_vocab, texts, languages) == translate(model, vocab, texts, languages)


def test_save_model_writes_weights_and_the_same_card(trained, tmp_path):
    model, vocab, folder = trained
    save_model(tmp_path, model, "text2gloss", json.loads((folder / "model.json").read_text())["config"],
               vocab=vocab.to_dict())
    loaded, loaded_vocab = load_text2gloss(tmp_path)
    for name, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], value, rtol=0, atol=0, msg=name)
    with pytest.raises(SignlibError, match="vocabulary differs"):
        save_text2gloss_card(tmp_path, model, GlossVocab(["ONLY"]))


def test_load_errors_name_the_file(trained, tmp_path):
    _, _, folder = trained
    with pytest.raises(SignlibError, match="model.json: not found"):
        load_text2gloss(tmp_path)
    (tmp_path / "model.json").write_text((folder / "model.json").read_text())
    with pytest.raises(SignlibError, match="final.pt: weights not found"):
        load_text2gloss(tmp_path)
    (tmp_path / "final.pt").write_bytes((folder / "final.pt").read_bytes()[:100])
    with pytest.raises(SignlibError, match="final.pt: cannot load"):
        load_text2gloss(tmp_path)
    card = json.loads((folder / "model.json").read_text())
    card["config"]["layers"] = 3
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: bad card"):
        load_text2gloss(tmp_path)
    card = json.loads((folder / "model.json").read_text())
    del card["vocab"]
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: bad card"):
        load_text2gloss(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({**card, "format": "signlib.signspark/1"}))
    with pytest.raises(SignlibError, match="model.json: not a signlib.text2gloss/1 card"):
        load_text2gloss(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(SignlibError, match="model.json: not valid JSON"):
        load_text2gloss(tmp_path)


def test_bad_inputs_raise_signlib_errors(trained):
    model, vocab, _ = trained
    with pytest.raises(SignlibError, match="empty"):
        translate(model, vocab, ["   "], ["ASL"])
    with pytest.raises(SignlibError, match="unknown sign language"):
        translate(model, vocab, ["Hello."], ["LSF"])
    with pytest.raises(SignlibError, match="languages"):
        translate(model, vocab, ["Hello.", "Hi."], ["ASL"])
    with pytest.raises(SignlibError, match="lists"):
        translate(model, vocab, "Hello.", "ASL")
    with pytest.raises(SignlibError, match="max_bytes"):
        translate(model, vocab, ["x" * 65], ["ASL"])
    with pytest.raises(SignlibError, match="max_glosses"):
        translate(model, vocab, ["Hello."], ["ASL"], max_glosses=0)
    with pytest.raises(SignlibError, match="unknown sign language"):
        make_sampler([("Hello.", "XYZ", ["HELLO"])], vocab, 4)
    with pytest.raises(SignlibError, match="empty"):
        make_sampler([("", "ASL", ["HELLO"])], vocab, 4)
    with pytest.raises(SignlibError, match="max_glosses"):
        make_sampler([("Hello.", "ASL", ["A"] * 9)], vocab, 4, max_glosses=8)


def test_translate_refuses_bad_input_naming_the_argument():
    model = Text2Gloss(TINY, GlossVocab(["CAT", "DOG"])).eval()
    vocab = GlossVocab(["CAT", "DOG"])
    for kwargs, message in [
        (dict(texts=[b"a cat"], languages=["ASL"]), r"^translate: texts\[0\]: must be str, got bytes"),
        (dict(texts=["a cat", "dog\ud800"], languages=["ASL", "ASL"]),
         r"^translate: texts\[1\]: character '\\ud800' at position 3"),
        (dict(texts=["a cat"], languages=["XSL"]), r"^translate: languages\[0\]: unknown sign language 'XSL'"),
        (dict(texts=["a cat"], languages=["ASL"], max_glosses=2.5), r"^translate: max_glosses: must be an integer"),
        (dict(texts=["a cat"], languages=["ASL"], max_glosses=9), r"^translate: max_glosses=9 is outside \[1, 8\]"),
        (dict(texts=["a cat"], languages=["ASL"], batch_size=0), r"^translate: batch_size=0 must be >= 1"),
        (dict(texts=b"a cat", languages=["ASL"]), r"^translate: texts and languages must be lists"),
    ]:
        with pytest.raises(SignlibError, match=message) as info:
            translate(model, vocab, **kwargs)
        assert "\n" not in str(info.value)
    assert translate(model, vocab, [], []) == []
    plain = translate(model, vocab, ["a cat"], ["ASL"], max_glosses=3, batch_size=1)
    assert translate(model, vocab, ["a cat"], ["ASL"], max_glosses=np.int64(3), batch_size=np.int32(1)) == plain
