"""The multi-head token generator: the embedding mix, teacher forcing against cached greedy decoding,
and learning two sentences' token sequences exactly, stopping at their ends."""

import pytest
import torch

from signlib.baselines.token_generator import MultiHeadTokenGenerator
from signlib.errors import SignlibError
from signlib.generate.configs import TextEncoderConfig

TEXT = TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
SIZES = {"body": 6, "left_hand": 8, "right_hand": 8}


def _model(**kw):
    torch.manual_seed(0)
    return MultiHeadTokenGenerator(SIZES, TEXT, d_model=32, layers=2, heads=2, ff=64, max_tokens=16, **kw)


def test_the_next_input_mixes_the_three_embeddings_with_lambda():
    m = _model(lam=0.25)
    tokens = {"body": torch.tensor([[1, 2]]), "left_hand": torch.tensor([[3, 4]]), "right_hand": torch.tensor([[5, 6]])}
    pos = m.position(torch.arange(2))[None]
    want = 0.5 * m.embed["body"](tokens["body"]) + 0.25 * m.embed["left_hand"](tokens["left_hand"]) \
        + 0.25 * m.embed["right_hand"](tokens["right_hand"]) + pos
    torch.testing.assert_close(m.mix(tokens), want)


def test_greedy_decoding_with_the_cache_matches_teacher_forcing():
    m = _model().eval()
    with torch.no_grad():  # an untrained model may end at once: keep BOS/EOS from winning, decode 6 steps
        for p, n in SIZES.items():
            m.heads[p].bias[n:] = -1e4
    out = m.generate(["a cat", "the dog runs"], ["DGS", "ASL"], max_len=6)
    for b, (text, lang) in enumerate([("a cat", "DGS"), ("the dog runs", "ASL")]):
        seq = out[b]
        L = len(seq["body"])
        assert L == 6
        inputs = {p: torch.cat([torch.tensor([m.bos(p)]), seq[p]])[None] for p in seq}
        logits = m([text], [lang], inputs)
        for p in seq:  # every generated token is the uncached argmax at its position
            assert torch.equal(logits[p][0, :L].argmax(-1).clamp(max=SIZES[p] - 1), seq[p])


def test_two_sentences_are_learned_exactly_and_decoding_stops_at_their_ends():
    m = _model()
    texts, langs = ["a cat", "the dog runs"], ["DGS", "ASL"]
    tokens = {"body": torch.tensor([[1, 2, 3, 0], [4, 4, 0, 0]]),
              "left_hand": torch.tensor([[7, 1, 2, 0], [3, 5, 0, 0]]),
              "right_hand": torch.tensor([[0, 6, 6, 0], [2, 1, 0, 0]])}
    lengths = torch.tensor([3, 2])
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    for _ in range(200):
        loss = m.loss(texts, langs, tokens, lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = m.eval().generate(texts, langs)
    for b in range(2):
        for p in tokens:
            assert out[b][p].tolist() == tokens[p][b, :lengths[b]].tolist(), (b, p, out[b][p])


@pytest.mark.parametrize("call, message", [
    (lambda: MultiHeadTokenGenerator({"body": 4}, TEXT, d_model=32, heads=2), "sizes must name exactly"),
    (lambda: MultiHeadTokenGenerator(SIZES, TEXT, d_model=32, heads=2, lam=0.7), "lam=0.7"),
    (lambda: _model().loss(["a"], ["DGS"], {p: torch.zeros(1, 16, dtype=torch.long) for p in SIZES},
                           torch.tensor([16])), "16 tokens \\+ EOS exceed max_tokens=16"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(SignlibError, match=message):
        call()
