"""The Progressive Transformers / Prompt2Sign line files: round trips, the counter, and one clear
error per kind of bad input, naming the file and line."""

import numpy as np
import pytest

from signlib.data.formats.prompt2sign import SkelsSample, progress_counter, read_prompt2sign, write_prompt2sign
from signlib.errors import SignlibError


def _samples(rng, gloss=True):
    out = []
    for k, T in enumerate((1, 4, 9)):
        frames = rng.normal(size=(T, 150)).astype(np.float32)
        out.append(SkelsSample(f"clip_{k}", f"sentence number {k}", frames, progress_counter(T),
                               f"G{k} H{k}" if gloss else None))
    return out


def test_a_split_round_trips_to_five_decimals(tmp_path):
    samples = _samples(np.random.default_rng(0))
    written = write_prompt2sign(tmp_path / "train", samples)
    assert sorted(p.name for p in written) == ["train.files", "train.gloss", "train.skels", "train.text"]
    back = read_prompt2sign(tmp_path / "train")
    assert [(s.name, s.text, s.gloss, s.num_frames) for s in back] == \
        [(s.name, s.text, s.gloss, s.num_frames) for s in samples]
    for a, b in zip(samples, back):
        np.testing.assert_allclose(b.frames, a.frames, atol=6e-6)
        np.testing.assert_allclose(b.counter, a.counter, atol=6e-6)
    assert back[2].counter[0] == 0 and back[2].counter[-1] == 1 and back[0].counter.tolist() == [0.0]


def test_each_frame_is_its_coordinates_then_the_counter(tmp_path):
    frames = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, 12.0]], np.float32)
    write_prompt2sign(tmp_path / "dev", [SkelsSample("a", "hi", frames, None)])
    assert (tmp_path / "dev.skels").read_text() == "0.5 -1 2 0 1 0 12 1\n"
    assert not (tmp_path / "dev.gloss").exists()  # no sample had a gloss
    back = read_prompt2sign(tmp_path / "dev", values_per_frame=3)
    np.testing.assert_array_equal(back[0].frames, frames)
    assert back[0].gloss is None


def _split(tmp_path, skels, text="a\n", files="x\n"):
    (tmp_path / "s.skels").write_text(skels)
    (tmp_path / "s.text").write_text(text)
    (tmp_path / "s.files").write_text(files)
    return tmp_path / "s"


@pytest.mark.parametrize("skels, text, files, message", [
    ("1 2 3 0\n", "a\nb\n", "x\n", "different numbers of lines: s.skels 1, s.text 2, s.files 1"),
    ("1 2 3 0 4\n", "a\n", "x\n", "s.skels: line 1: 5 numbers is not a whole number of frames of 4"),
    ("1 two 3 0\n", "a\n", "x\n", "s.skels: line 1: 'two' is not a number"),
    ("1 nan 3 0\n", "a\n", "x\n", "s.skels: line 1: NaN or infinite values"),
    ("1 2 3 1 1 2 3 0.5\n", "a\n", "x\n", "the counter .* must rise within \\[0, 1\\]"),
    ("1 2 3 1.5\n", "a\n", "x\n", "the counter .* must rise within \\[0, 1\\]"),
])
def test_bad_files_name_the_file_and_line(tmp_path, skels, text, files, message):
    with pytest.raises(SignlibError, match=message):
        read_prompt2sign(_split(tmp_path, skels, text, files), values_per_frame=3)


def test_a_missing_file_and_bad_samples_are_named(tmp_path):
    with pytest.raises(SignlibError, match="nothing.skels: file not found"):
        read_prompt2sign(tmp_path / "nothing")
    frames = np.zeros((2, 150), np.float32)
    with pytest.raises(SignlibError, match="sample 0: text 'two\\\\nlines' holds a line break"):
        write_prompt2sign(tmp_path / "w", [SkelsSample("a", "two\nlines", frames, None)])
    with pytest.raises(SignlibError, match="sample 1 \\(b\\): frames must be \\(T >= 1, 150\\)"):
        write_prompt2sign(tmp_path / "w", [SkelsSample("a", "t", frames, None),
                                           SkelsSample("b", "t", np.zeros((2, 3)), None)])
    with pytest.raises(SignlibError, match="NaN or infinite"):
        write_prompt2sign(tmp_path / "w", [SkelsSample("a", "t", np.full((2, 150), np.inf), None)])
    assert not list(tmp_path.glob("w.*"))  # nothing half-written


@pytest.mark.parametrize("values", [0, -3, 2.5, True])
def test_values_per_frame_must_be_a_positive_integer(tmp_path, values):
    with pytest.raises(SignlibError, match="values_per_frame must be a positive integer"):
        read_prompt2sign(tmp_path / "dev", values_per_frame=values)
