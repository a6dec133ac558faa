"""The SOKE-style baseline end to end on tiny synthetic data: the tokenizer learns and is judged per
part, retrieval feeds dictionary signs to the generator (and none works), generation gives
4 frames per token and survives a save/load round trip, bad input is named, and the two decoders
take the number of steps the speed comparison relies on."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
import torch

from signlib.baselines.configs import SokeConfig
from signlib.baselines.soke import (GENERATOR_KIND, TOKENIZER_KIND, SignBank, SokeSystem, SokeTokenizer,
                                    build_generator, generate_soke, load_soke, save_generator_card,
                                    save_tokenizer_card, tokenizer_report)
from signlib.baselines.soke_training import (codes_used, generator_loss, generator_sampler, reconstruction_errors,
                                             tokenise_clips, tokenizer_loss, tokenizer_sampler)
from signlib.baselines.token_generator import PARTS, MultiHeadTokenGenerator, SingleHeadTokenGenerator
from signlib.checkpoint import read_card
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.generate.configs import TextEncoderConfig
from signlib.generate.data import clip_statistics, to_genclip
from signlib.train import OptimConfig, fit

from ..generate.conftest import smooth_clip

TEXT = TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
CONFIG = SokeConfig(layout="rot6d", max_frames=64, fps=25.0, tokenizer_width=24, code_dim=8, crop_frames=16,
                    text=TEXT, d_model=32, layers=1, heads=2, ff=64, max_retrieved=2)
SIZES = {"body": 6, "left_hand": 8, "right_hand": 8}
SENTENCES = [("One cat.", "ASL", 36, ["ONE", "CAT"]), ("Zwei Hunde laufen.", "DGS", 28, ["ZWEI", "HUND", "LAUFEN"]),
             ("A bird.", "ASL", 22, ["BIRD"]), ("Der Hund.", "DGS", 40, ["HUND"])]
#: Citation clips of 20 frames, the sign at frames 4..16 (LAUFEN has no citation form).
DICTIONARY = [("ASL", "ONE"), ("ASL", "CAT"), ("ASL", "BIRD"), ("DGS", "ZWEI"), ("DGS", "HUND")]
SPANS = {key: (4, 16) for key in DICTIONARY}


def _sequences() -> list[Sequence]:
    out = []
    for k, (text, lang, T, glosses) in enumerate(SENTENCES):
        bounds = np.linspace(0, T, len(glosses) + 1).astype(int)
        segments = [Segment(int(a), int(b), g) for a, b, g in zip(bounds[:-1], bounds[1:], glosses)]
        out.append(Sequence(smooth_clip(T, 240, seed=k), "rot6d", 25.0, segments=segments, text=text, language=lang,
                            id=f"c{k}"))
    return out


def _citations() -> dict:
    return {key: Sequence(smooth_clip(20, 240, seed=10 + k), "rot6d", 25.0, segments=[Segment(4, 16, key[1])],
                          language=key[0], id=f"cit{k}") for k, key in enumerate(DICTIONARY)}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The stage's steps at toy size: ``(tokenizer, tokenizer metrics rows, {retrieval: folder},
    tokenizer folder)``; one thread, as the model is too small to gain from two."""
    root = tmp_path_factory.mktemp("soke")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train = _sequences()
        torch.manual_seed(0)
        tokenizer = SokeTokenizer(CONFIG)
        tokenizer.set_statistics(*clip_statistics([to_genclip(s, keyframes=[]) for s in train]))
        result = fit(tokenizer, tokenizer_loss(), tokenizer_sampler(train, 8, CONFIG.crop_frames),
                     OptimConfig(8, 5e-3, 0.0).schedule(120), root / "tokenizer", progress=False)
        tokenizer.eval()
        save_tokenizer_card(root / "tokenizer", tokenizer, reconstruction=reconstruction_errors(tokenizer, train),
                            reconstruction_unit="cm", codes_used=codes_used(tokenise_clips(tokenizer, train)))
        folders = {}
        for retrieval in (False, True):
            config = dataclasses.replace(CONFIG, retrieval=retrieval)
            bank = SignBank(tokenizer, _citations(), SPANS) if retrieval else None
            torch.manual_seed(0)
            generator = build_generator(config, tokenizer.sizes)
            folders[retrieval] = root / f"generator_{retrieval}"
            fit(generator, generator_loss(), generator_sampler(tokenise_clips(tokenizer, train, bank), 4),
                OptimConfig(4, 3e-3).schedule(20), folders[retrieval], progress=False)
            save_generator_card(folders[retrieval], generator, config, tokenizer, spans=SPANS if retrieval else None)
    finally:
        torch.set_num_threads(threads)
    return tokenizer, json.loads(result.paths["metrics"].read_text()), folders, root / "tokenizer"


def _texts(n=4):
    return [s[0] for s in SENTENCES[:n]], [s[1] for s in SENTENCES[:n]]


def _generator(retrieval: bool, seed: int = 0) -> MultiHeadTokenGenerator:
    torch.manual_seed(seed)
    return MultiHeadTokenGenerator(SIZES, TEXT, d_model=32, layers=1, heads=2, ff=64, max_tokens=12,
                                   retrieval=retrieval, max_retrieved=6).eval()


def _inputs(B: int, L: int = 3) -> dict:
    return {p: torch.randint(0, SIZES[p], (B, L), generator=torch.Generator().manual_seed(1)) for p in PARTS}


def test_the_tokenizer_learns_and_its_sampler_is_pure(trained):
    _, rows, _, _ = trained
    recon = [r["recon"] for r in rows]                 # random windows: compare five rows at each end
    assert np.mean(recon[-5:]) < 0.75 * np.mean(recon[:5]), recon
    assert {"recon", "commitment", "perplexity"} <= set(rows[-1])
    sample = tokenizer_sampler(_sequences(), 5, 32)
    a, b = sample(7, np.random.default_rng([0, 7])), sample(7, np.random.default_rng([0, 7]))
    assert all(torch.equal(a[k], b[k]) for k in a) and a["x"].shape == (5, 32, 240)
    short = a["mask"].sum(1) < 32                      # the 22- and 28-frame clips: padding masked
    assert bool((a["mask"].sum(1)[short] >= 22).all()) and not bool(a["mask"][short, -1].any())


def test_reconstruction_is_judged_per_part_in_cm(trained):
    tokenizer = trained[0]
    errors = reconstruction_errors(tokenizer, _sequences()[:2])
    assert set(errors) == set(PARTS) and all(0 < e < 1000 for e in errors.values())

    class Perfect(SokeTokenizer):      # decodes the input back, but for a wrong left hand
        def detokenize(self, tokens):
            x = self.saved.clone()
            x[..., self.layout.feature_slice("left_hand")] += 0.3
            return x

        def tokenize(self, x, valid=None):
            self.saved = torch.cat([x, x[:, -1:].expand(-1, -x.shape[1] % 4, -1)], 1)
            return {}

    fake = Perfect(CONFIG)
    errors = reconstruction_errors(fake, _sequences()[:2])
    assert errors["body"] == 0 and errors["right_hand"] == 0 and errors["left_hand"] > 0.1
    rows = tokenizer_report(read_card(trained[3], TOKENIZER_KIND))
    assert [r["part"] for r in rows] == list(PARTS) and rows[0]["codebook"] == 96 and rows[0]["unit"] == "cm"
    assert 1 <= rows[1]["codes_used"] <= 192 and rows[1]["reconstruction"] > 0


def test_training_retrieves_the_gold_glosses_signs_in_order_up_to_max_retrieved(trained):
    tokenizer = trained[0]
    bank = SignBank(tokenizer, _citations(), SPANS)
    clips = tokenise_clips(tokenizer, _sequences(), bank)
    assert [c.signs for c in clips] == [2, 2, 1, 1]    # ZWEI HUND (LAUFEN unknown); max 2 signs
    sign = {g: bank.tokens(lang, g) for lang, g in DICTIONARY}
    assert all(len(t) == 3 for t in sign["HUND"].values())   # the 12-frame span: 3 tokens
    for p in PARTS:
        assert clips[1].retrieved[p].tolist() == torch.cat([sign["ZWEI"][p], sign["HUND"][p]]).tolist()
        assert len(clips[1].tokens[p]) == 7                  # 28 frames
    batch = generator_sampler(clips, 3)(0, np.random.default_rng(0))
    assert len(batch["retrieved"]) == 3 and batch["tokens"]["body"].shape == (3, int(batch["lengths"].max()))


def test_retrieved_tokens_change_the_output_and_none_retrieved_works():
    m, texts, langs = _generator(True), ["One cat.", "A bird."], ["ASL", "ASL"]
    with torch.no_grad():
        m.retrieved_type.mul_(50.0)      # make the retrieved memory hard to ignore for an untrained model
        one = {p: torch.tensor([1, 2, 3]) for p in PARTS}
        other = {p: torch.tensor([4, 5]) for p in PARTS}
        a = m(texts[:1], langs[:1], _inputs(1), [one])
        b = m(texts[:1], langs[:1], _inputs(1), [other])
        none = m(texts[:1], langs[:1], _inputs(1), [{}])
        # A row without retrieval in a batch with one: its padded memory is masked away.
        mixed = m(texts, langs, _inputs(2), [{}, one])
        alone = m(texts[:1], langs[:1], {p: t[:1] for p, t in _inputs(2).items()}, [{}])
    assert not torch.allclose(a["body"], b["body"]) and not torch.allclose(a["body"], none["body"])
    torch.testing.assert_close(mixed["left_hand"][:1], alone["left_hand"])
    out = m.generate(texts, langs, max_len=4, retrieved=[{}, one], min_len=4)
    assert [len(o["body"]) for o in out] == [4, 4]


@pytest.mark.parametrize("retrieval, retrieved, message", [
    (False, [{}], "retrieved: this generator was built without retrieval"),
    (True, None, "retrieved: a retrieval generator needs one"),
    (True, [{}, {}], "retrieved: .*got 2 entries"),
    (True, [{"body": torch.tensor([1])}], r"retrieved\[0\]: must map exactly"),
    (True, [{p: torch.arange(7) % 6 for p in PARTS}], r"retrieved\[0\]: 7 tokens, over max_retrieved=6"),
    (True, [{p: torch.tensor([9]) for p in PARTS}], r"retrieved\[0\]\['body'\]: codes must lie in \[0, 6\)"),
])
def test_bad_retrieved_tokens_are_named(retrieval, retrieved, message):
    with pytest.raises(SignlibError, match=message):
        _generator(retrieval).generate(["One cat."], ["ASL"], max_len=2, retrieved=retrieved)


def _system(trained, retrieval: bool) -> SokeSystem:
    return load_soke(trained[3], trained[2][retrieval])


def test_generate_soke_gives_sequences_of_four_frames_per_token(trained):
    texts, langs = _texts()
    for retrieval in (False, True):
        system = _system(trained, retrieval)
        kw = dict(glosses=[s[3] for s in SENTENCES], citations=_citations()) if retrieval else {}
        out = generate_soke(system, texts, langs, batch_size=3, **kw)
        assert [s.id for s in out] == [f"generated_{i}" for i in range(4)]
        for seq, text, lang in zip(out, texts, langs):
            assert (seq.layout, seq.fps, seq.text, seq.language) == ("rot6d", 25.0, text, lang)
            assert seq.num_frames == 4 * seq.meta["tokens"] and 1 <= seq.meta["tokens"] <= 16
            assert seq.meta["stopped_by"] == ("eos" if seq.meta["tokens"] < 16 else "max_tokens")
        assert [s.meta["retrieved"] for s in out] == ([2, 2, 1, 1] if retrieval else [0] * 4)
        # Greedy and row-independent: the same sequences one at a time, through translate too.
        gold = [s[3] for s in SENTENCES]
        kw = dict(translate=lambda t, langs: gold[:len(t)], citations=_citations()) if retrieval else {}
        again = generate_soke(system, texts, langs, batch_size=1, **kw)
        assert all(np.array_equal(a.features, b.features) for a, b in zip(out, again))


def test_save_and_load_give_the_same_sequences(trained, tmp_path):
    tokenizer, _, folders, tok_folder = trained
    card = read_card(folders[True], GENERATOR_KIND)
    config = SokeConfig.from_dict(card["config"])
    generator = build_generator(config, tokenizer.sizes)
    generator.load_state_dict(torch.load(folders[True] / "final.pt", weights_only=True))
    memory = SokeSystem(tokenizer, generator.eval(), config, SPANS)
    kw = dict(glosses=[s[3] for s in SENTENCES], citations=_citations())
    a = generate_soke(memory, *_texts(), **kw)
    b = generate_soke(_system(trained, True), *_texts(), **kw)
    assert all(np.array_equal(x.features, y.features) and x.meta == y.meta for x, y in zip(a, b))
    # A generator is only ever decoded by the tokenizer it was trained on.
    other = SokeTokenizer(CONFIG)
    other.load_state_dict(tokenizer.state_dict())
    with torch.no_grad():
        other.parts["body"].quantizer.codebook.add_(1.0)
    (tmp_path / "tok").mkdir()
    torch.save(other.state_dict(), tmp_path / "tok" / "final.pt")
    save_tokenizer_card(tmp_path / "tok", other)
    with pytest.raises(SignlibError, match="trained on another tokenizer"):
        load_soke(tmp_path / "tok", folders[False])
    with pytest.raises(SignlibError, match="not a signlib.soke_generator/1 card"):
        load_soke(tok_folder, tok_folder)


@pytest.mark.parametrize("retrieval, changes, message", [
    (True, dict(glosses=[["CAT"]]), "glosses: need one gloss list per text \\(2\\), got 1 entries"),
    (True, dict(glosses="CAT"), "glosses: need one gloss list per text"),
    (True, dict(glosses=[["CAT"], ["BIRD"]], citations=None), "citations: the retrieval generator needs"),
    (True, dict(glosses=None), "glosses, translate: pass exactly one"),
    (True, dict(languages=["ASL", "XSL"]), r"languages\[1\]: unknown sign language 'XSL'"),
    (False, dict(glosses=[["CAT"], ["BIRD"]], citations=None), "glosses: this generator was trained without retrieval"),
    (False, dict(citations=None, texts=["One cat."]), "need as many texts as languages"),
    (False, dict(citations=None, batch_size=0), "batch_size=0"),
    (False, dict(citations=None, batch_size=2.0), r"batch_size: must be an integer, got 2.0"),
    (False, dict(citations=None, texts=[b"One cat.", "A bird."]), r"texts\[0\]: must be str, got bytes"),
    (False, dict(citations=None, texts=["One cat.", "A \ud800"]), r"texts\[1\]: character '\\ud800' at position 2"),
])
def test_bad_generation_requests_are_named(trained, retrieval, changes, message):
    kw = dict(texts=["One cat.", "A bird."], languages=["ASL", "ASL"], glosses=[["CAT"], ["BIRD"]],
              citations=_citations())
    kw.update(changes)
    with pytest.raises(SignlibError, match=f"^generate_soke: {message}"):
        generate_soke(_system(trained, retrieval), **kw)


def _count_steps(model) -> list:
    calls, step = [], model.blocks[0].step
    model.blocks[0].step = lambda x, cache: calls.append(1) or step(x, cache)
    return calls


def test_multi_head_min_len_forces_the_length():
    m = _generator(False)
    with torch.no_grad():                  # an EOS-loving model: every head prefers EOS at once
        for p, n in SIZES.items():
            m.heads[p].bias[n + 1] = 1e4
    texts, langs = ["One cat.", "Zwei Hunde."], ["ASL", "DGS"]
    assert [len(o["body"]) for o in m.generate(texts, langs)] == [0, 0]
    calls = _count_steps(m)
    out = m.generate(texts, langs, max_len=5, min_len=5)
    assert len(calls) == 5 and all(len(o[p]) == 5 for o in out for p in PARTS)
    assert all(int(o[p].max()) < SIZES[p] for o in out for p in PARTS)
    with pytest.raises(SignlibError, match="min_len=6 must be an integer in \\[0, max_len=5\\]"):
        m.generate(texts, langs, max_len=5, min_len=6)


def test_single_head_decoding_takes_three_steps_per_token():
    torch.manual_seed(0)
    m = SingleHeadTokenGenerator(SIZES, TEXT, d_model=32, layers=1, heads=2, ff=64, max_tokens=12).eval()
    with torch.no_grad():
        m.head.bias[m.eos] = 1e4           # EOS first, unless it is ignored
    texts, langs = ["One cat.", "Zwei Hunde."], ["ASL", "DGS"]
    calls = _count_steps(m)
    assert [len(o["body"]) for o in m.generate(texts, langs)] == [0, 0] and len(calls) == 1
    calls.clear()
    out = m.generate(texts, langs, max_len=5, ignore_eos=True)
    assert len(calls) == 15 and all(len(o[p]) == 5 for o in out for p in PARTS)
    assert all(0 <= int(o[p].min()) and int(o[p].max()) < SIZES[p] for o in out for p in PARTS)
    # It learns like the multi-head model: teacher forcing over the union vocabulary.
    torch.manual_seed(0)
    m = SingleHeadTokenGenerator(SIZES, TEXT, d_model=32, layers=1, heads=2, ff=64, max_tokens=12)
    tokens, lengths = _inputs(2, 3), torch.tensor([3, 2])
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(150):
        loss = m.loss(texts, langs, tokens, lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = m.eval().generate(texts, langs)
    assert [o[p].tolist() for o in out for p in PARTS] == [tokens[p][b, :lengths[b]].tolist() for b in range(2)
                                                            for p in PARTS]


def test_tokenizer_report_and_load_soke_name_the_card_of_a_bad_field(trained, tmp_path):
    _, _, folders, tok_folder = trained
    card = read_card(tok_folder, TOKENIZER_KIND)
    assert [r["part"] for r in tokenizer_report(card, tok_folder)] == list(card["sizes"])
    for broken, message in [({k: v for k, v in card.items() if k != "sizes"}, "missing field 'sizes'"),
                            ({**card, "sizes": {"body": 6}}, "field 'sizes' must map body"),
                            ({**card, "codes_used": {"body": "all"}}, "field 'codes_used' must map parts to numbers"),
                            ({**card, "reconstruction": [1.0]}, "field 'reconstruction' must be a mapping")]:
        with pytest.raises(SignlibError, match=rf"^{tok_folder}/model.json: bad card \({message}"):
            tokenizer_report(broken, tok_folder)
    gen = tmp_path / "gen"
    shutil.copytree(folders[True], gen)
    good = json.loads((gen / "model.json").read_text())
    for broken, message in [({**good, "spans": [["ASL", "CAT", 5]]}, "field 'spans' must hold"),
                            ({**good, "sizes": None}, "field 'sizes' must be a mapping"),
                            ({k: v for k, v in good.items() if k != "tokenizer"}, "missing field 'tokenizer'")]:
        (gen / "model.json").write_text(json.dumps(broken))
        with pytest.raises(SignlibError, match=rf"^{gen}/model.json: bad card \({message}"):
            load_soke(tok_folder, gen)
