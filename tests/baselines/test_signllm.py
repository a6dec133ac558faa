"""SignLLM's MLSF and Prompt2LangGloss baselines: prompts and tags, the priority learning channel,
the reinforcement-style loss, bit-identical resume, save/load, and dispatch by language."""

import json
import shutil

import numpy as np
import pytest
import torch

from signlib.baselines.configs import RegressionConfig, SignLLMConfig
from signlib.baselines.regression import ProgressiveTransformer, generate_regression, load_regression
from signlib.baselines.regression_training import make_loss as regression_loss
from signlib.baselines.signllm import (LANGUAGE_NAMES, MLSF, TAGS, Prompt2LangGloss, generate_mlsf, generate_p2lg,
                                       load_mlsf, load_p2lg, pose_text, prompt, save_mlsf_card, save_p2lg_card,
                                       split_tag, tagged_glosses)
from signlib.baselines.signllm_training import (SignLLMTrainee, importance_weights, make_priority_sampler,
                                                make_rl_loss, mlsf_clips, p2lg_pose_clips, prompt_pairs, rl_weights,
                                                sampling_probabilities)
from signlib.config import SignLLMSection
from signlib.errors import SignlibError
from signlib.generate.configs import Text2GlossConfig, TextEncoderConfig
from signlib.generate.data import GenClip, clip_statistics
from signlib.generate.text2gloss import Text2Gloss, make_loss as gloss_loss, make_sampler as gloss_sampler
from signlib.generate.text2gloss import save_text2gloss_card
from signlib.optim import OptimConfig
from signlib.stages.train_signllm import train_pose
from signlib.text.glosses import GlossVocab
from signlib.train import TrainConfig, train

TINY_TEXT = TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
POSE = RegressionConfig(layout="rot6d", max_frames=64, text=TINY_TEXT, d_model=32, layers=1, heads=2, ff=64,
                        dropout=0.0, input_noise=0.1)
PROMPT = Text2GlossConfig(d_model=32, encoder_layers=1, decoder_layers=1, heads=2, ff=64, dropout=0.0,
                          max_glosses=8, ngram_buckets=512)
CONFIG = SignLLMConfig(pose=POSE, prompt=PROMPT)
DATA = [("I have a cat.", "ASL", ["I", "HAVE", "CAT"]), ("The dog runs.", "ASL", ["DOG", "RUN"]),
        ("Ich habe eine Katze.", "DGS", ["ICH", "HABEN", "KATZE"]), ("Der Hund rennt.", "DGS", ["HUND", "RENNEN"]),
        ("Heute regnet es.", "DGS", ["HEUTE", "REGEN"])]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def smooth_clip(T: int, seed: int, D: int = 240) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)


def make_clips(data=DATA, scale=None) -> list[GenClip]:
    out = []
    for k, (text, lang, _) in enumerate(data):
        x = smooth_clip(16 + 4 * k, seed=k) * (1.0 if scale is None else scale[k])
        out.append(GenClip(f"c{k}", x, np.ones_like(x, dtype=bool), np.zeros(0, np.int64), text, lang))
    return out


def trainee_for(clips, seed: int = 0) -> SignLLMTrainee:
    torch.manual_seed(seed)
    model = ProgressiveTransformer(POSE)
    model.set_statistics(*clip_statistics(clips))
    return SignLLMTrainee(model, len(clips))


def section(steps_batch: int = 4) -> SignLLMSection:
    return SignLLMSection(model=CONFIG, train=OptimConfig(batch_size=steps_batch, lr=3e-3, ema_decay=0.0),
                          prompt_train=OptimConfig(batch_size=8, lr=3e-3, ema_decay=0.0))


def test_the_prompt_names_the_language_and_the_tag_round_trips():
    for lang, name in LANGUAGE_NAMES.items():
        text = prompt(" Good morning. ", lang)
        assert name in text and text.endswith("? Good morning.")
    assert len({prompt("x", lang) for lang in LANGUAGE_NAMES}) == 4
    tagged = tagged_glosses(["HEUTE", "REGEN"], "DGS")
    assert tagged == ["<DGS>", "HEUTE", "REGEN"] and TAGS["<DGS>"] == "DGS"
    assert split_tag(tagged) == ("DGS", ["HEUTE", "REGEN"])
    assert split_tag(["HEUTE", "<BSL>", "REGEN"]) == (None, ["HEUTE", "REGEN"])  # a tag is never a sign
    assert split_tag([]) == (None, [])
    assert pose_text(["A", "B-C"], "CSL") == "<CSL> A B-C" and pose_text([], "ASL") == "<ASL>"
    with pytest.raises(SignlibError, match="XYZ"):
        prompt("hello", "XYZ")
    with pytest.raises(SignlibError, match="empty"):
        prompt("  ", "ASL")
    triples = prompt_pairs(["Hallo."], ["DGS"], [["HALLO"]])
    assert triples == [("How is this signed in German Sign Language? Hallo.", "DGS", ["<DGS>", "HALLO"])]


def test_the_priority_channel_draws_high_priority_items_more_often_with_weights_at_most_one():
    data = [(f"text {k}", "ASL", ["A"]) for k in range(10)]
    clips = make_clips(data)
    trainee = trainee_for(clips)
    trainee.priority.copy_(torch.tensor([4.0] + [0.5] * 8 + [0.0]))
    config = SignLLMConfig(pose=POSE, priority_alpha=1.0, priority_eps=0.05, importance_beta=0.4)
    sample = make_priority_sampler(trainee, clips, 8, config)
    counts, seen = np.zeros(10), {}
    for step in range(300):
        batch = sample(step, np.random.default_rng([0, step]))
        idx = batch["index"].numpy()
        counts += np.bincount(idx, minlength=10)
        seen.update(zip(idx.tolist(), batch["importance"].tolist()))
        assert batch["x1"].shape == (8, int(batch["lengths"].max()), 240)
        assert batch["texts"] == [f"text {k}" for k in idx]
    p = sampling_probabilities(trainee.priority.numpy(), 1.0, 0.05)
    assert p[0] == pytest.approx(4.05 / 8.5)
    assert counts[0] / counts.sum() == pytest.approx(p[0], abs=0.03)  # 2400 draws: std ~0.01
    assert counts[0] > 5 * counts[1:9].mean() and counts[9] < counts[1:9].mean()
    weights = importance_weights(p, 0.4)
    assert weights.max() == pytest.approx(1.0) and np.argmax(weights) == 9 and np.argmin(weights) == 0
    assert all(w <= 1.0 + 1e-6 and w == pytest.approx(weights[k], rel=1e-6) for k, w in seen.items())
    # The sample is a pure function of (step, rng) and the priorities.
    again = sample(5, np.random.default_rng([0, 5]))
    assert torch.equal(again["index"], sample(5, np.random.default_rng([0, 5]))["index"])
    # Equal priorities (or alpha = 0) draw uniformly, every weight 1.
    trainee.priority.fill_(1.0)
    batch = sample(0, np.random.default_rng(0))
    assert torch.allclose(batch["importance"], torch.ones(8))
    flat = SignLLMConfig(pose=POSE, priority_alpha=0.0)
    trainee.priority.copy_(torch.arange(10.0))
    assert np.allclose(sampling_probabilities(trainee.priority.numpy(), flat.priority_alpha, flat.priority_eps), 0.1)


def test_rl_weights_favour_items_worse_than_the_baseline():
    trainee = trainee_for(make_clips())
    config = SignLLMConfig(pose=POSE, rl_weight=0.5, baseline_decay=0.9)
    errors = torch.tensor([0.5, 1.0, 1.5, 3.0])
    w = rl_weights(trainee, errors, torch.ones(4), config)
    assert torch.all(w[1:] > w[:-1]) and w.min() >= 0.5 and w.max() <= 1.5
    assert int(trainee.updates) == 1 and float(trainee.baseline) == pytest.approx(0.1 * -1.5)
    # Every item far better than the baseline (-1.5, bias-corrected): all weighted down, to 1 - 0.5.
    w = rl_weights(trainee, torch.full((4,), 0.1), torch.full((4,), 0.5), config)
    assert torch.allclose(w, torch.full((4,), 0.25))
    # rl_weight = 0: the weights are the importance weights.
    plain = SignLLMConfig(pose=POSE, rl_weight=0.0)
    importance = torch.tensor([1.0, 0.5, 0.25, 1.0])
    assert torch.equal(rl_weights(trainee_for(make_clips()), errors, importance, plain), importance)


def _batch(clips, trainee, config):
    return make_priority_sampler(trainee, clips, 6, config)(0, np.random.default_rng(3))


def test_the_rl_loss_with_rl_weight_zero_is_the_regression_loss_and_weights_worse_items_up():
    clips = make_clips(scale=[1.0, 1.0, 6.0, 1.0, 1.0])  # clip 2 is far from the others: a worse item
    plain = SignLLMConfig(pose=POSE, rl_weight=0.0)
    trainee = trainee_for(clips)
    batch = _batch(clips, trainee, plain)
    assert 2 in batch["index"].tolist()
    torch.manual_seed(11)
    reference, ref_logs = regression_loss()(trainee.model, batch)
    torch.manual_seed(11)
    loss, logs = make_rl_loss(plain)(trainee, batch)
    torch.testing.assert_close(loss, reference, rtol=1e-6, atol=1e-7)
    assert logs["mse"] == pytest.approx(ref_logs["mse"], rel=1e-6)
    # The loss wrote each drawn item's error into its priority; clip 2's is the largest.
    drawn = sorted(set(batch["index"].tolist()))
    assert all(float(trainee.priority[k]) != 1.0 for k in drawn)
    assert int(trainee.priority[drawn].argmax()) == drawn.index(2)

    weighted = trainee_for(clips)
    torch.manual_seed(11)
    rl_loss, rl_logs = make_rl_loss(SignLLMConfig(pose=POSE, rl_weight=1.0))(weighted, batch)
    assert float(rl_loss.detach()) > float(loss.detach()) * 1.2
    assert rl_logs["weight_max"] > 1.5 > 0.5 > rl_logs["weight_min"]
    assert rl_logs["mse"] == pytest.approx(logs["mse"], rel=1e-6)  # the unweighted error is the same


class Killed(Exception):
    """Stands in for SIGKILL between two steps."""


def _fit(out, clips, killed_at=None, init=0):
    trainee = trainee_for(clips, seed=init)
    sampler = make_priority_sampler(trainee, clips, 4, CONFIG)

    def sample(step, rng):
        if step == killed_at:
            raise Killed
        return sampler(step, rng)

    config = TrainConfig(steps=6, batch_size=4, lr=3e-3, warmup_steps=1, ema_decay=0.8, checkpoint_every=2,
                         log_every=1, seed=0)
    return trainee, train(trainee, make_rl_loss(CONFIG), sample, config, out, progress=False)


def test_resumed_mlsf_training_ends_bit_identical_to_an_uninterrupted_run(tmp_path):
    clips = mlsf_clips(make_clips())["DGS"]
    full, full_result = _fit(tmp_path / "full", clips)
    with pytest.raises(Killed):
        _fit(tmp_path / "killed", clips, killed_at=5)  # steps 0..4 done, the checkpoint holds step 4
    resumed, result = _fit(tmp_path / "killed", clips, init=7)
    assert result.resumed_from == 4
    a, b = full.state_dict(), resumed.state_dict()
    assert a.keys() == b.keys() and {"priority", "baseline", "updates"} <= set(a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(v, result.ema_state[k]) for k, v in full_result.ema_state.items())
    assert int(full.updates) == 6 and not torch.all(full.priority == 1.0)
    # The EMA loads into the trainee and the inner model comes out with the EMA weights.
    result.load_ema(resumed)
    inner = resumed.model.state_dict()
    assert all(torch.equal(v, result.ema_state[f"model.{k}"]) for k, v in inner.items())


@pytest.fixture(scope="module")
def mlsf(tmp_path_factory):
    """``(in-memory MLSF, folder)``: ASL and DGS decoders trained as the stage trains them."""
    folder = tmp_path_factory.mktemp("signllm_mlsf")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        models = {}
        for lang, clips in mlsf_clips(make_clips()).items():
            models[lang], summary = train_pose(clips, POSE, section(), 8, 0, "cpu", folder / lang, progress=False)
            assert summary["items"] == len(clips)
        save_mlsf_card(folder, CONFIG, models)
    finally:
        torch.set_num_threads(threads)
    return MLSF(models), folder


def test_mlsf_save_load_round_trip_gives_identical_generation(mlsf):
    model, folder = mlsf
    loaded = load_mlsf(folder)
    assert loaded.languages == ["ASL", "DGS"]
    texts, langs = ["I have a cat.", "Der Hund rennt."], ["ASL", "DGS"]
    before, after = generate_mlsf(model, texts, langs), generate_mlsf(loaded, texts, langs)
    assert all(np.array_equal(x.features, y.features) for x, y in zip(before, after))
    card = load_regression(folder / "DGS")  # each language is a plain regression folder
    assert isinstance(card, ProgressiveTransformer)


def test_mlsf_dispatches_each_text_to_its_languages_model(mlsf):
    model, _ = mlsf
    texts = ["Der Hund rennt.", "I have a cat.", "Heute regnet es.", "The dog runs."]
    langs = ["DGS", "ASL", "DGS", "ASL"]
    out = generate_mlsf(model, texts, langs, batch_size=1)
    assert [s.id for s in out] == [f"generated_{i}" for i in range(4)]
    assert [s.text for s in out] == texts and [s.language for s in out] == langs
    assert [s.meta["model"] for s in out] == langs and all("stopped_by" in s.meta for s in out)
    for seq, text, lang in zip(out, texts, langs):
        own = generate_regression(model.models[lang], [text], [lang])[0]
        other = generate_regression(model.models["ASL" if lang == "DGS" else "DGS"], [text], [lang])[0]
        assert np.array_equal(seq.features, own.features)
        assert seq.features.shape != other.features.shape or not np.allclose(seq.features, other.features)
    with pytest.raises(SignlibError, match="no model for sign language BSL"):
        generate_mlsf(model, ["Hello."], ["BSL"])
    with pytest.raises(SignlibError, match="XYZ"):
        generate_mlsf(model, ["Hello."], ["XYZ"])
    with pytest.raises(SignlibError, match="lists"):
        generate_mlsf(model, "Hello.", "ASL")


def test_p2lg_generates_tagged_glosses_and_poses_and_survives_save_load(tmp_path):
    clips = make_clips()
    pairs = prompt_pairs([d[0] for d in DATA], [d[1] for d in DATA], [d[2] for d in DATA])
    vocab = GlossVocab.build([p[2] for p in pairs])
    assert "<ASL>" in vocab and "<DGS>" in vocab
    torch.manual_seed(0)
    prompter = Text2Gloss(PROMPT, vocab)
    schedule = TrainConfig(steps=60, batch_size=8, lr=5e-3, warmup_steps=3, seed=0)
    sampler = gloss_sampler(pairs, vocab, 8, PROMPT.max_bytes, PROMPT.max_glosses)
    train(prompter, gloss_loss(label_smoothing=0.0), sampler, schedule, tmp_path / "prompt", progress=False)
    prompter.eval()
    save_text2gloss_card(tmp_path / "prompt", prompter, vocab)
    pose, _ = train_pose(p2lg_pose_clips(clips, [d[2] for d in DATA]), POSE, section(), 8, 0, "cpu",
                         tmp_path / "pose", progress=False)
    save_p2lg_card(tmp_path, CONFIG)
    model = Prompt2LangGloss(prompter, vocab, pose)

    texts, langs = [d[0] for d in DATA], [d[1] for d in DATA]
    out = generate_p2lg(model, texts, langs)
    assert [s.id for s in out] == [f"generated_{i}" for i in range(len(DATA))] and [s.text for s in out] == texts
    for seq, lang in zip(out, langs):
        assert seq.meta["glosses"][0] == f"<{lang}>" and seq.meta["tag_ok"] is True
        assert seq.meta["predicted_language"] == lang and seq.meta["pose_text"].startswith(f"<{lang}>")
    loaded = load_p2lg(tmp_path)
    again = generate_p2lg(loaded, texts, langs)
    assert [s.meta for s in again] == [s.meta for s in out]
    assert all(np.array_equal(x.features, y.features) for x, y in zip(out, again))
    for x, y in zip(out, generate_p2lg(loaded, texts, langs, batch_size=2)):  # batching changes only rounding
        np.testing.assert_allclose(x.features, y.features, atol=1e-5)
    # A tag for another language: the pose decoder still gets the requested one.
    swapped = generate_p2lg(model, ["I have a cat."], ["DGS"])[0]
    assert swapped.meta["tag_ok"] == (swapped.meta["predicted_language"] == "DGS")
    assert swapped.meta["pose_text"].startswith("<DGS>") and swapped.language == "DGS"


def test_generator_input_and_mlsf_cards_are_one_line_errors(mlsf, tmp_path):
    model, folder = mlsf
    for call, message in [
        (lambda: generate_mlsf(model, [b"I have a cat."], ["ASL"]),
         r"^generate_mlsf: texts\[0\]: must be str, got bytes"),
        (lambda: generate_mlsf(model, ["cat\ud800"], ["ASL"]), r"^generate_mlsf: texts\[0\]: character '\\ud800' at"),
        (lambda: generate_mlsf(model, ["I have a cat."], ["ASL"], batch_size=1.5),
         r"^generate_mlsf: batch_size: must be an integer, got 1.5"),
        (lambda: prompt(b"cat", "ASL"), r"^SignLLM prompt: must be str, got bytes"),
        (lambda: prompt("\udcff", "ASL"), r"^SignLLM prompt: character '\\udcff' at position 0"),
    ]:
        with pytest.raises(SignlibError, match=message) as info:
            call()
        assert "\n" not in str(info.value)
    copy = tmp_path / "mlsf"
    shutil.copytree(folder, copy)
    card = json.loads((copy / "model.json").read_text())
    for languages, message in [("ASL", "field 'languages' must be a list, got 'ASL'"),
                               ([["ASL"]], r"field 'languages' must list sign languages"),
                               ([], r"field 'languages' must list .*got \[\]")]:
        (copy / "model.json").write_text(json.dumps({**card, "languages": languages}))
        with pytest.raises(SignlibError, match=rf"^{copy}/model.json: bad card \({message}"):
            load_mlsf(copy)
