"""The regression text-to-pose baseline: shapes, causality, the key/value cache, overfitting a few
clips (length chosen by the counter), save/load, and one-line errors for bad input."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from signlib.baselines.configs import RegressionConfig
from signlib.baselines.regression import (KIND, ProgressiveTransformer, generate_regression, load_regression,
                                          save_regression_card, teacher_inputs)
from signlib.baselines.regression_training import as_clips, check_clips, make_loss, make_sampler
from signlib.checkpoint import CARD, WEIGHTS, card_format, save_model
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.configs import TextEncoderConfig
from signlib.generate.data import GenClip, clip_statistics
from signlib.train import OptimConfig, fit
from signlib.validate import InvalidValue, is_from_data

TINY_TEXT = TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
TINY = dict(layout="rot6d", max_frames=64, text=TINY_TEXT, d_model=48, layers=2, heads=4, ff=96, dropout=0.0)
TEXTS = ["One cat.", "Zwei Hunde laufen.", "三只鸟"]
LANGS = ["ASL", "DGS", "CSL"]
LENGTHS = [20, 28, 36]


def smooth_clip(T: int = 40, D: int = 240, seed: int = 0) -> np.ndarray:
    """``(T, D)`` smooth curves (a few sinusoids per channel): signing-like, cheap to learn."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)


def save_folder(folder, model: ProgressiveTransformer) -> None:
    """A model folder of ``model``'s current weights, as the training stage leaves it."""
    save_model(folder, model, KIND, model.config.to_dict())
    save_regression_card(folder, model)


def tiny_model(**changes) -> ProgressiveTransformer:
    torch.manual_seed(0)
    return ProgressiveTransformer(RegressionConfig(**{**TINY, **changes})).eval()


def clips() -> list[GenClip]:
    out = []
    for k, (text, lang, T) in enumerate(zip(TEXTS, LANGS, LENGTHS)):
        x = smooth_clip(T, 240, seed=k)
        out.append(GenClip(f"c{k}", x, np.ones_like(x, dtype=bool), np.zeros(0, np.int64), text, lang))
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(model, TrainResult, folder)``: the tiny model fitted to the three clips the way the
    ``train_regression`` stage does it (statistics, ``fit``, the card)."""
    folder = tmp_path_factory.mktemp("regression")
    config = RegressionConfig(**TINY, input_noise=0.05, counter_weight=1.0)
    train_clips = clips()
    check_clips(train_clips, config)
    # One thread: a model this small gains nothing from two, and a busy second core makes two slow.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = ProgressiveTransformer(config)
        model.set_statistics(*clip_statistics(train_clips))
        # 199 steps: EMA (from 200 steps on) starts from the initial weights and would lag this short a run.
        schedule = OptimConfig(batch_size=6, lr=3e-3, ema_decay=0.99).schedule(199, seed=0, device="cpu")
        assert schedule.ema_decay == 0.0
        result = fit(model, make_loss(), make_sampler(train_clips, 6, config.max_frames), schedule, folder,
                     progress=False)
        save_regression_card(folder, model, train_clips=len(train_clips))
    finally:
        torch.set_num_threads(threads)
    return model, result, folder


def test_config_round_trips_and_marks_what_the_data_decides():
    config = RegressionConfig(**TINY)
    assert RegressionConfig.from_dict(dataclasses.asdict(config)) == config
    assert RegressionConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config     # text from JSON
    from_data = {f.name for f in dataclasses.fields(RegressionConfig) if is_from_data(f)}
    assert from_data == {"layout", "max_frames", "fps"}
    with pytest.raises(SignlibError, match="not a regression config .*colour"):
        RegressionConfig.from_dict({"layers": 2, "colour": "red"})
    with pytest.raises(SignlibError, match="RegressionConfig: text=.*bogus"):
        RegressionConfig.from_dict({**config.to_dict(), "text": {"d_model": 8, "bogus": 1}})


@pytest.mark.parametrize("changes,key,message", [
    (dict(heads=5), "heads", "heads=5 must divide d_model=48"),
    (dict(max_frames=0), "max_frames", "max_frames=0 must be an integer >= 1"),
    (dict(input_noise=-0.1), "input_noise", r"input_noise=-0.1 must be a number in \[0, inf\]"),
    (dict(dropout=1.0), "dropout", r"dropout=1.0 must be a number in \[0, 1\)"),
    (dict(counter_weight=float("nan")), "counter_weight", r"counter_weight=nan must be a number in \[0, inf\]"),
    (dict(fps=0), "fps", r"fps=0 must be a number in \[0.001, inf\]"),
    (dict(text=3), "text", "text=3 must be a TextEncoderConfig"),
])
def test_bad_config_values_are_one_line_errors_naming_the_field(changes, key, message):
    with pytest.raises(InvalidValue, match=f"^RegressionConfig: {message}$") as err:
        RegressionConfig(**{**TINY, **changes})
    assert err.value.key == key


def test_unknown_layout_is_an_error_naming_the_known_ones():
    with pytest.raises(SignlibError, match="unknown layout 'nope'; known layouts: .*rot6d"):
        RegressionConfig(**{**TINY, "layout": "nope"})


def test_unknown_text_key_is_a_signlib_error():
    with pytest.raises(SignlibError, match="RegressionConfig: text=.*bogus"):
        RegressionConfig(**{**TINY, "text": {"d_model": 8, "bogus": 1}})


def test_shapes_and_teacher_inputs():
    model = tiny_model()
    x, lengths = torch.randn(3, 10, 240), torch.tensor([10, 5, 4])
    frames_in, counter_in, target = teacher_inputs(model, x, lengths)
    torch.testing.assert_close(frames_in[:, 1:], x[:, :-1])            # shifted right by one
    torch.testing.assert_close(frames_in[:, 0], model.start.expand(3, -1))
    torch.testing.assert_close(counter_in[1, :5], torch.arange(5.0) / 5)  # 0 .. (n-1)/n
    torch.testing.assert_close(target[1, :5], torch.arange(1.0, 6.0) / 5)  # 1/n .. 1
    frames, counter = model(frames_in, counter_in, TEXTS, LANGS)
    assert frames.shape == (3, 10, 240) and counter.shape == (3, 10)


def test_outputs_are_causal():
    model = tiny_model()
    x = torch.randn(2, 12, 240)
    frames_in, counter_in, _ = teacher_inputs(model, x, torch.tensor([12, 12]))
    changed = frames_in.clone()
    changed[:, 6:] += torch.randn(2, 6, 240)
    with torch.no_grad():
        a, ca = model(frames_in, counter_in, TEXTS[:2], LANGS[:2])
        b, cb = model(changed, counter_in, TEXTS[:2], LANGS[:2])
    torch.testing.assert_close(a[:, :6], b[:, :6])
    torch.testing.assert_close(ca[:, :6], cb[:, :6])
    assert not torch.allclose(a[:, 6:], b[:, 6:])


@pytest.mark.parametrize("text_width", [32, 48])   # 32: the text tokens go through a projection
def test_cached_steps_equal_the_full_pass(text_width):
    model = tiny_model(text=dataclasses.replace(TINY_TEXT, d_model=text_width))
    with torch.no_grad():
        for p in model.parameters():   # random start frame and head, so nothing is trivially zero
            p.add_(0.05 * torch.randn_like(p))
    x = torch.randn(3, 15, 240)
    frames_in, counter_in, _ = teacher_inputs(model, x, torch.tensor([15, 9, 15]))
    with torch.no_grad():
        memory, mask = model.encode_text(TEXTS, LANGS)       # texts of different lengths: padded memory
        assert not mask.all()
        full_f, full_c = model.decode(frames_in, counter_in, memory, mask)
        cache = model.start_cache(memory, mask, 15)
        steps = [model.step(frames_in[:, k], counter_in[:, k], cache) for k in range(15)]
    torch.testing.assert_close(torch.stack([f for f, _ in steps], 1), full_f)
    torch.testing.assert_close(torch.stack([c for _, c in steps], 1), full_c)
    with pytest.raises(ValueError, match="overflow"):
        model.step(frames_in[:, 0], counter_in[:, 0], cache)


def test_sampler_is_a_pure_function_of_the_step_and_rng():
    sample = make_sampler(clips(), batch_size=4, max_frames=64)
    a, b = sample(3, np.random.default_rng([0, 3])), sample(3, np.random.default_rng([0, 3]))
    assert a["texts"] == b["texts"] and torch.equal(a["x1"], b["x1"]) and torch.equal(a["lengths"], b["lengths"])
    assert set(a) == {"x1", "valid", "length_mask", "lengths", "texts", "languages"}
    assert a["x1"].shape == (4, int(a["lengths"].max()), 240)
    with pytest.raises(SignlibError, match="over max_frames=30"):
        make_sampler(clips(), batch_size=4, max_frames=30)


def test_loss_ignores_padding_and_missing_joints():
    model = tiny_model()
    model.train()  # dropout is 0, so training mode is still deterministic
    batch = make_sampler(clips(), batch_size=3, bucket=0)(0, np.random.default_rng(1))
    loss_fn = make_loss(input_noise=0.0)
    loss, logs = loss_fn(model, batch)
    assert set(logs) == {"loss", "mse", "counter"} and abs(logs["loss"] - float(loss.detach())) < 1e-6
    lengths = batch["lengths"].tolist()
    # A joint (2 × 6 channels) missing in the last frame of clip 0; the last frame is never an input.
    batch["valid"][0, lengths[0] - 1, :12] = False
    before, _ = loss_fn(model, batch)
    batch["x1"][0, lengths[0] - 1, :12] += 5.0
    short = int(np.argmin(lengths))
    batch["x1"][short, lengths[short]:] = 100.0        # padding frames (none if all clips are equal)
    after, _ = loss_fn(model, batch)
    torch.testing.assert_close(after, before)
    batch["x1"][0, 0, 12:24] += 5.0                     # an observed channel does count
    assert not torch.allclose(loss_fn(model, batch)[0], before)


def test_overfits_a_few_clips_and_the_counter_sets_the_length(trained):
    model, result, _ = trained
    rows = [r["loss"] for r in json.loads(result.paths["metrics"].read_text())]
    assert rows[-1] < rows[0] / 10, rows
    seqs = generate_regression(model, TEXTS, LANGS)
    for seq, text, lang, T, clip in zip(seqs, TEXTS, LANGS, LENGTHS, clips()):
        assert isinstance(seq, Sequence) and seq.layout == "rot6d" and seq.fps == 25.0
        assert seq.text == text and seq.language == lang and seq.meta["stopped_by"] == "counter"
        assert abs(seq.num_frames - T) <= 2, (seq.num_frames, T)
        n = min(T, seq.num_frames)
        # Close to its own clip, far closer than to the mean of the three.
        err = np.abs(seq.features[:n] - clip.features[:n]).mean()
        assert err < 0.3 * np.abs(clip.features[:n] - clip.features[:n].mean(0)).mean(), err


def test_same_sequence_alone_or_in_a_batch(trained):
    model = trained[0]
    together = generate_regression(model, TEXTS, LANGS, batch_size=2)
    for k in range(3):
        alone = generate_regression(model, [TEXTS[k]], [LANGS[k]])[0]
        np.testing.assert_allclose(alone.features, together[k].features, atol=1e-5)


def test_generation_stops_at_max_frames_without_a_counter():
    model = tiny_model()
    with torch.no_grad():
        model.head.bias[-1] = -20.0          # counter steps of 2e-9: it never comes near 1
    seqs = generate_regression(model, TEXTS, LANGS, max_frames=17)
    assert [s.num_frames for s in seqs] == [17, 17, 17]
    assert all(s.meta["stopped_by"] == "max_frames" for s in seqs)
    assert generate_regression(model, TEXTS[:1], LANGS[:1])[0].num_frames == 64    # the model's max_frames
    with torch.no_grad():
        model.head.weight[-1] = 0.0
        model.head.bias[-1] = 10.0           # the counter is past 1 at once
    assert [s.num_frames for s in generate_regression(model, TEXTS, LANGS)] == [1, 1, 1]


def test_save_load_round_trip(trained, tmp_path):
    model, _, folder = trained
    card = json.loads((folder / CARD).read_text())
    assert card["format"] == card_format("regression") and card["config"] == model.config.to_dict()
    assert card["train_clips"] == 3                     # extra card fields are kept
    loaded = load_regression(folder)                    # the folder fit + save_regression_card wrote
    assert loaded.config == model.config and not loaded.training
    torch.testing.assert_close(loaded.mean, model.mean)
    torch.testing.assert_close(loaded.std, model.std)
    a, b = generate_regression(model, TEXTS, LANGS), generate_regression(loaded, TEXTS, LANGS)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.features, y.features)
    save_folder(tmp_path, loaded)
    again = load_regression(tmp_path)
    for x, y in zip(a, generate_regression(again, TEXTS, LANGS)):
        np.testing.assert_array_equal(x.features, y.features)


def test_bad_generation_requests_give_clear_errors():
    model = tiny_model()
    with pytest.raises(SignlibError, match="unknown sign language 'XSL'"):
        generate_regression(model, ["hello"], ["XSL"])
    with pytest.raises(SignlibError, match="text is empty"):
        generate_regression(model, ["  "], ["ASL"])
    with pytest.raises(SignlibError, match="not strings"):
        generate_regression(model, "hello", "ASL")
    with pytest.raises(SignlibError, match="2 and 1"):
        generate_regression(model, ["a", "b"], ["ASL"])
    with pytest.raises(SignlibError, match="max_frames=65"):
        generate_regression(model, ["hello"], ["ASL"], max_frames=65)
    with pytest.raises(SignlibError, match="generate_regression: batch_size=0 must be >= 1"):
        generate_regression(model, ["hello"], ["ASL"], batch_size=0)
    with pytest.raises(SignlibError, match=r"^generate_regression: texts\[1\]: must be str, got bytes"):
        generate_regression(model, ["hello", b"world"], ["ASL", "ASL"])
    with pytest.raises(SignlibError, match=r"^generate_regression: texts\[0\]: character '\\ud800' at position 5"):
        generate_regression(model, ["hello\ud800"], ["ASL"])
    with pytest.raises(SignlibError, match=r"^generate_regression: max_frames: must be an integer, got 12.5"):
        generate_regression(model, ["hello"], ["ASL"], max_frames=12.5)
    with pytest.raises(SignlibError, match=r"^generate_regression: batch_size: must be an integer, got True"):
        generate_regression(model, ["hello"], ["ASL"], batch_size=True)
    # numpy integers are whole numbers: the same sequence as with plain ints
    a = generate_regression(model, ["hello"], ["ASL"], max_frames=5, batch_size=1)[0]
    b = generate_regression(model, ["hello"], ["ASL"], max_frames=np.int64(5), batch_size=np.int32(1))[0]
    np.testing.assert_array_equal(a.features, b.features)


def test_training_clips_are_checked_against_the_config():
    config = RegressionConfig(**TINY)
    # Clips of another layout (xyz keypoints are not 240 rot6d channels).
    odd = [GenClip("x", np.zeros((10, 99), np.float32), np.ones((10, 99), bool), np.zeros(0, np.int64), "a", "ASL")]
    with pytest.raises(SignlibError, match="clip 'x': features \\(10, 99\\) do not match layout 'rot6d'"):
        check_clips(odd, config)
    with pytest.raises(SignlibError, match="clip 'c2': 36 frames, outside \\[1, max_frames=30\\]"):
        check_clips(clips(), dataclasses.replace(config, max_frames=30))
    with pytest.raises(SignlibError, match="unknown sign language 'XSL'"):
        check_clips([dataclasses.replace(clips()[0], language="XSL")], config)
    with pytest.raises(SignlibError, match="regression: no training clips"):
        as_clips([])
    with pytest.raises(SignlibError, match="must be GenClip or Sequence, got str"):
        as_clips(["clip"])
    seq = Sequence(smooth_clip(20, 240, seed=5), "rot6d", 25.0, text="Hi.", language="BSL", id="s")
    [clip] = as_clips([seq])                             # a Sequence becomes a GenClip without keyframes
    assert (clip.id, clip.text, clip.language, len(clip.keyframes)) == ("s", "Hi.", "BSL", 0)
    np.testing.assert_array_equal(clip.features, seq.features)


def test_bad_model_folders_are_one_line_errors_naming_the_file(tmp_path):
    model = tiny_model()
    with pytest.raises(SignlibError, match="model.json: not found: .* is not a regression model folder"):
        load_regression(tmp_path / "none")
    save_folder(tmp_path / "m", model)
    (tmp_path / "m" / WEIGHTS).write_bytes(b"not a zip file")
    with pytest.raises(SignlibError, match="final.pt: cannot load weights"):
        load_regression(tmp_path / "m")
    (tmp_path / "m" / WEIGHTS).unlink()
    with pytest.raises(SignlibError, match="final.pt: weights not found"):
        load_regression(tmp_path / "m")
    card = json.loads((tmp_path / "m" / CARD).read_text())
    (tmp_path / "m" / CARD).write_text(json.dumps({**card, "config": {**card["config"], "heads": 5}}))
    with pytest.raises(SignlibError, match="model.json: bad card .*heads=5 must divide d_model=48"):
        load_regression(tmp_path / "m")
    (tmp_path / "m" / CARD).write_text(json.dumps({**card, "config": {**card["config"], "colour": "red"}}))
    with pytest.raises(SignlibError, match="model.json: bad card .*not a regression config.*colour"):
        load_regression(tmp_path / "m")
    (tmp_path / "m" / CARD).write_text('{"format": "something else"}')
    with pytest.raises(SignlibError, match="model.json: not a signlib.regression/1 card .*'something else'"):
        load_regression(tmp_path / "m")
    (tmp_path / "m" / CARD).write_text("{oops")
    with pytest.raises(SignlibError, match="model.json: not valid JSON"):
        load_regression(tmp_path / "m")
