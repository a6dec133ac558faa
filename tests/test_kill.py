"""SIGKILL tests: a killed process leaves nothing half-written, and resumed work ends exactly where
uninterrupted work ends.

Each test starts ``tests/helpers/kill_worker.py`` in a real subprocess, waits until the worker
reports that it is paused at a known place (mid-training, inside a checkpoint write, inside a clip
write), SIGKILLs it (no ``finally``, no ``atexit``), then checks what is on disk and resumes. Every
wait has a timeout, so a hung worker fails its test instead of hanging the suite.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from signlib.data.corpus import Corpus, write_corpus
from signlib.data.store import read_clip
from signlib.errors import SignlibError

HELPERS = Path(__file__).parent / "helpers"
sys.path.insert(0, str(HELPERS))

import kill_worker  # noqa: E402

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX); Windows has none")

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60  # per wait; a worker normally needs a few seconds, most of it importing torch


def _start(log: Path, *args) -> subprocess.Popen:
    """Start the worker with ``args``; its output goes to ``log`` (a pipe nobody reads could fill up)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, str(HELPERS / "kill_worker.py"), *map(str, args)],
                                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def _finish(proc: subprocess.Popen, log: Path) -> None:
    """Wait for a worker to end; fail with its output when it fails or hangs."""
    try:
        rc = proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"worker {proc.args[2:]} hung for {TIMEOUT_S} s:\n{log.read_text()}")
    assert rc == 0, f"worker {proc.args[2:]} failed:\n{log.read_text()}"


def _run(log: Path, *args) -> None:
    """Run the worker to the end (see :func:`_finish`)."""
    _finish(_start(log, *args), log)


def _kill_when_paused(proc: subprocess.Popen, marker: Path, log: Path) -> None:
    """Wait for ``marker`` (the worker is paused at its kill point), then SIGKILL the worker."""
    deadline = time.monotonic() + TIMEOUT_S
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"worker ended (rc {proc.returncode}) before its kill point:\n{log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            pytest.fail(f"worker did not reach its kill point in {TIMEOUT_S} s:\n{log.read_text()}")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=TIMEOUT_S) == -signal.SIGKILL


def _same(a, b) -> bool:
    """Bit-for-bit equality of nested checkpoint data (dicts, lists, tensors, numbers)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def assert_same_run(out: Path, reference: Path) -> None:
    """Checkpoint (weights, optimizer, EMA, rows), final weights and metrics match bit for bit."""
    for name in ("last.pt", "final.pt"):
        assert _same(torch.load(out / name, weights_only=True), torch.load(reference / name, weights_only=True)), name
    # The weights file is even byte-identical. (last.pt need not be: rows read back from a checkpoint
    # pickle with other memo references than rows built in one run.)
    assert (out / "final.pt").read_bytes() == (reference / "final.pt").read_bytes()
    rows = json.loads((out / "metrics_rows.json").read_text())
    assert rows == json.loads((reference / "metrics_rows.json").read_text())
    assert [r["step"] for r in rows] == list(range(1, kill_worker.STEPS + 1))  # no step twice


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run, in its own process, with the settings every killed run uses.

    Returns a function that waits for the run and gives its folder: the run goes on while the
    first test starts and kills its own worker (on two cores that hides one torch import)."""
    out = tmp_path_factory.mktemp("reference")
    proc = _start(out / "worker.log", "train", out / "run", 0)

    def finished() -> Path:
        _finish(proc, out / "worker.log")
        return out / "run"

    yield finished
    if proc.poll() is None:  # the tests failed before waiting for it
        proc.kill()
        proc.wait()


def test_a_run_killed_mid_training_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path, reference):
    out, marker, log = tmp_path / "run", tmp_path / "paused", tmp_path / "worker.log"
    _kill_when_paused(_start(log, "train", out, 0, "pause-step", 5, marker), marker, log)
    # Steps 0-4 were done: the checkpoint holds step 4, the metrics already logged step 5.
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 4
    assert json.loads((out / "metrics_rows.json").read_text())[-1]["step"] == 5
    _run(log, "train", out, 7)  # another init: the resumed weights can only come from last.pt
    assert_same_run(out, reference())


@pytest.mark.parametrize("nth, resume_init", [(1, 0), (2, 7)], ids=["first-checkpoint", "second-checkpoint"])
def test_a_run_killed_inside_a_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, reference, nth, resume_init):
    out, marker, log = tmp_path / "run", tmp_path / "paused", tmp_path / "worker.log"
    _kill_when_paused(_start(log, "train", out, 0, "pause-save", nth, marker), marker, log)
    # The kill landed inside the write: half a checkpoint sits in a temporary file that no
    # reader's glob matches, and last.pt is the previous checkpoint (none before the first).
    leftovers = [p.name for p in out.iterdir() if p.name.endswith(".partial")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".last.pt."), leftovers
    assert not Path(leftovers[0]).match("*.pt")
    assert sorted(p.name for p in out.glob("*.pt")) == (["last.pt"] if nth > 1 else [])
    if nth > 1:
        assert torch.load(out / "last.pt", weights_only=True)["step"] == (nth - 1) * kill_worker.CHECKPOINT_EVERY
    # Without a checkpoint the run starts afresh, so it needs the same init to match.
    _run(log, "train", out, resume_init)
    assert_same_run(out, reference())
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # the resumed run removed the leftover


def _globbed_clips(root: Path) -> list[Path]:
    """Every ``.npz`` that the readers' globs list (``sources.py``'s ``clips/*.npz`` pattern,
    recursive pathlib and ``glob`` module)."""
    found = set(root.glob("clips/*.npz")) | set(root.glob("**/*.npz"))
    found |= {Path(p) for p in glob.glob(str(root / "**" / "*.npz"), recursive=True)}
    return sorted(found)


def test_a_corpus_write_killed_inside_a_clip_leaves_the_previous_corpus(tmp_path):
    root, marker, log = tmp_path / "corpus", tmp_path / "paused", tmp_path / "worker.log"
    old, new = kill_worker.corpus_clips(0), kill_worker.corpus_clips(1)
    splits = {c.signer: "train" for c in old}
    write_corpus(root, old, splits)
    index = (root / "index.json").read_bytes()
    _kill_when_paused(_start(log, "corpus", root, 1, "pause-clip", 2, marker), marker, log)
    assert any(p.name.endswith(".partial") for p in (root / "clips").iterdir())  # killed inside a write

    # The old index, and every clip it lists is the old clip: nothing it points to was touched.
    assert (root / "index.json").read_bytes() == index
    corpus = Corpus(root)
    assert [c.id for c in corpus.clips] == [c.id for c in old]
    for seq, before in zip(corpus, old, strict=True):
        np.testing.assert_array_equal(seq.features, before.features)
    # Globs never list the temporary file; what they list are whole clips (the killed write's
    # finished ones sit unreferenced beside the old ones until the next write).
    listed = _globbed_clips(root)
    assert listed and not [p for p in listed if p.name.startswith(".") or "partial" in p.name]
    for path in listed:
        read_clip(path)

    # Writing again completes and leaves exactly the new corpus: no old clips, no leftovers.
    corpus = write_corpus(root, new, splits)
    for seq, after in zip(corpus, new, strict=True):
        np.testing.assert_array_equal(seq.features, after.features)
    assert sorted(p.name for p in (root / "clips").iterdir()) == sorted(Path(c.file).name for c in corpus.clips)
    assert sorted(p.name for p in root.iterdir()) == ["clips", "index.json"]


def test_a_first_corpus_write_killed_midway_is_a_clear_error_then_rewrites(tmp_path):
    root, marker, log = tmp_path / "corpus", tmp_path / "paused", tmp_path / "worker.log"
    _kill_when_paused(_start(log, "corpus", root, 1, "pause-clip", 1, marker), marker, log)
    with pytest.raises(SignlibError, match=r"index\.json: corpus index not found \(an earlier write_corpus was "
                                           r"interrupted") as err:
        Corpus(root)
    assert "\n" not in str(err.value)
    clips = kill_worker.corpus_clips(1)
    corpus = write_corpus(root, clips, {c.signer: "train" for c in clips})
    assert len(corpus) == len(clips)
    assert sorted(p.name for p in (root / "clips").iterdir()) == sorted(Path(c.file).name for c in corpus.clips)
