"""The preference study: trials from a manifest, atomic answers, exact intervals, raters, the widget."""

import json
import math
import os
from collections import Counter
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
from scipy.stats import binom, binomtest

from signlib.errors import SignlibError
from signlib.render.video import read_video, write_video
from signlib.widgets.preference import FROZEN, Session, Trial, build_study, read_answers, record, simulate
from signlib.widgets.preference_stats import clopper_pearson, summary
from signlib.widgets.preference_view import PreferenceView

METHOD = "SignSparK KF2P"
SYSTEMS = {"truth": "truth", METHOD: "signspark_kf2p", "SLERP": "slerp", "naive stitching": "naive",
           "SignSparK T2P": "signspark_t2p"}
OTHERS = ["truth", "SLERP", "naive stitching", "SignSparK T2P"]


def make_manifest(root: Path, clips: list[str], lacking: dict | None = None, shared: bool = False) -> Path:
    """``root/results/render/study/study.json`` with real mp4s (6 frames of 16×16, brightening, so a
    frozen copy differs from its truth). ``lacking``: clip → systems it has no video of;
    ``shared``: every clip points at one set of videos (fast for many clips)."""
    render = root / "results" / "render"
    entries = []
    for c, clip in enumerate(clips):
        folder = "shared" if shared else clip
        videos = {}
        for s, (system, stem) in enumerate(SYSTEMS.items()):
            if system in (lacking or {}).get(clip, ()):
                continue
            videos[system] = f"study/{folder}/{stem}.mp4"
            if not (render / videos[system]).exists():
                value = 20 * s + 5 * c
                write_video(render / videos[system], (np.full((16, 16, 3), value + 20 * t, np.uint8) for t in range(6)), 10)
        entries.append({"clip": clip, "language": "DGS", "text": f"sentence {c}", "videos": videos})
    path = render / "study" / "study.json"
    path.write_text(json.dumps({"clips": entries, "method": METHOD}))
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """Three clips with their own videos; c2 has no naive-stitching video."""
    return make_manifest(tmp_path_factory.mktemp("small"), ["c0", "c1", "c2"], lacking={"c2": ["naive stitching"]})


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """Sixty clips sharing one set of videos."""
    return make_manifest(tmp_path_factory.mktemp("many"), [f"m{k:02d}" for k in range(60)], shared=True)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")


def _layout(study):
    return [(t.clip, t.left, t.right, t.kind) for t in study.trials]


def test_the_seed_fixes_order_and_sides_and_another_seed_changes_them(small, work):
    a, b = build_study(small, 0, workdir=work), build_study(small, 0, workdir=work)
    assert a == b
    others = [build_study(small, seed, workdir=work) for seed in (1, 2)]
    assert all(_layout(o) != _layout(a) and o.id != a.id for o in others)
    pairs = lambda study: sorted((t.clip, *sorted((t.left, t.right))) for t in study.trials if t.kind == "comparison")  # noqa: E731
    assert pairs(others[0]) == pairs(a)  # the same comparisons, shown in another order and on other sides


def test_each_comparison_appears_once_per_clip_and_missing_systems_are_skipped(small, work):
    study = build_study(small, 3, workdir=work)
    versus = Counter((t.clip, t.right if t.left == METHOD else t.left) for t in study.trials if t.kind == "comparison")
    expected = {(c, x) for c in ("c0", "c1", "c2") for x in OTHERS} - {("c2", "naive stitching")}
    assert set(versus) == expected and set(versus.values()) == {1}
    assert [t.index for t in study.trials] == list(range(len(expected) + 2))
    assert all(METHOD in (t.left, t.right) for t in study.trials if t.kind == "comparison")
    only = build_study(small, 3, comparisons=["SLERP"], attention_checks=0)
    assert {(t.left, t.right) for t in only.trials} == {(METHOD, "SLERP"), ("SLERP", METHOD)} and len(only.trials) == 3


def test_paths_resolve_against_results_render(small):
    study = build_study(small, 0, attention_checks=0)
    render = small.parent.parent
    for t in study.trials:
        assert t.left_path == render / "study" / t.clip / f"{SYSTEMS[t.left]}.mp4" and t.left_path.is_file()
        assert t.right_path == render / "study" / t.clip / f"{SYSTEMS[t.right]}.mp4"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_method_is_on_each_side_about_half_the_time(many, seed):
    study = build_study(many, seed, attention_checks=0)
    left = sum(t.left == METHOD for t in study.trials)
    assert len(study.trials) == 240 and abs(2 * left - 240) <= 1
    assert {t.left == METHOD for t in study.trials[:20]} == {True, False}  # shuffled, not in blocks


def test_attention_checks_pit_truth_against_its_frozen_copy(small, work):
    positions = set()
    for seed in range(4):
        study = build_study(small, seed, attention_checks=2, workdir=work)
        checks = [t for t in study.trials if t.kind == "attention"]
        assert len(checks) == 2
        positions.update(t.index for t in checks)
        for t in checks:
            assert {t.left, t.right} == {"truth", FROZEN} and t.system(t.expected) == "truth"
            truth, frozen = (t.left_path, t.right_path) if t.left == "truth" else (t.right_path, t.left_path)
            assert truth.name == "truth.mp4" and frozen.parent.parent == work
            real, still = read_video(truth).astype(int), read_video(frozen).astype(int)
            assert still.shape == real.shape
            assert np.abs(still - real[0]).max() <= 3 and np.abs(real[-1] - real[0]).max() > 50
    assert len(positions) > 3  # inserted at random places, not always the same


@pytest.mark.parametrize("kwargs, word", [({"comparisons": ["SOKE"]}, "comparisons"),
                                          ({"comparisons": [METHOD]}, "comparisons"),
                                          ({"attention_checks": -1}, "attention_checks"),
                                          ({"attention_checks": 1}, "workdir")])
def test_bad_study_arguments_are_named(small, kwargs, word):
    with pytest.raises(SignlibError, match=word):
        build_study(small, 0, **kwargs)


def test_a_missing_video_names_the_manifest_and_the_system(tmp_path):
    path = make_manifest(tmp_path, ["x"])
    (path.parent / "x" / "slerp.mp4").unlink()
    with pytest.raises(SignlibError, match=r"study\.json.*SLERP video"):
        build_study(path, 0, attention_checks=0)


def _trial(kind="comparison", expected=None):
    return Trial(0, "c0", METHOD, "SLERP" if kind == "comparison" else FROZEN, Path("a.mp4"), Path("b.mp4"),
                 kind, expected, "s1")


def test_record_appends_lines_that_read_answers_returns(tmp_path):
    path = tmp_path / "answers" / "a.jsonl"
    record(path, _trial(), "left", "ann", 3.5)
    record(path, _trial("attention", "left"), "right", "ann", 2)
    first, second = read_answers(path)
    assert first["chosen"] == METHOD and first["seconds"] == 3.5 and first["correct"] is None
    assert second["chosen"] == FROZEN and second["correct"] is False
    assert path.read_text().count("\n") == 2 and os.listdir(path.parent) == ["a.jsonl"]


@pytest.mark.parametrize("broken", ["replace", "fsync"])
def test_a_failing_write_leaves_the_answers_intact(tmp_path, monkeypatch, broken):
    path = tmp_path / "a.jsonl"
    record(path, _trial(), "left", "ann", 1.0)
    before = path.read_bytes()

    def boom(*args):
        raise OSError("disk on fire")

    monkeypatch.setattr(os, broken, boom)
    with pytest.raises(OSError, match="disk on fire"):
        record(path, _trial(), "right", "ann", 1.0)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["a.jsonl"]


@pytest.mark.parametrize("kwargs, message", [({"choice": "up"}, "choice must be 'left' or 'right'"),
                                             ({"rater": " "}, "rater must be"),
                                             ({"seconds": -1.0}, "seconds must be"),
                                             ({"seconds": math.nan}, "seconds must be"),
                                             ({"trial": "trial 0"}, "trial must be a Trial")])
def test_record_names_the_bad_argument(tmp_path, kwargs, message):
    args = {"answers_path": tmp_path / "a.jsonl", "trial": _trial(), "choice": "left", "rater": "ann", "seconds": 1.0}
    with pytest.raises(SignlibError, match=message):
        record(**{**args, **kwargs})
    assert not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize("line, message", [("{broken", "line 2: not valid JSON"), ("[1, 2]", "line 2: not an answer"),
                                           ('{"index": 0}', r"line 2: not an answer \(missing kind")])
def test_a_malformed_answers_line_names_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "a.jsonl"
    record(path, _trial(), "left", "ann", 1.0)
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(SignlibError, match=f"a.jsonl: {message}"):
        read_answers(path)


@pytest.mark.parametrize("wins, n, low, high", [(7, 10, 0.34755, 0.93326), (0, 10, 0.0, 0.30850),
                                                (10, 10, 0.69150, 1.0), (1, 1, 0.025, 1.0), (0, 0, 0.0, 1.0)])
def test_clopper_pearson_matches_known_exact_intervals(wins, n, low, high):
    got = clopper_pearson(wins, n)
    assert got == pytest.approx((low, high), abs=1e-5)
    if n:
        ref = binomtest(wins, n).proportion_ci(method="exact")  # scipy's own exact interval
        assert got == pytest.approx((ref.low, ref.high), abs=1e-9)
    if 0 < wins < n:  # the definition: each tail at the bound holds 2.5 %
        assert binom.sf(wins - 1, n, got[0]) == pytest.approx(0.025) and binom.cdf(wins, n, got[1]) == pytest.approx(0.025)


def _answer(rater, versus, method_chosen, kind="comparison", correct=True, index=0):
    if kind == "attention":
        return {"index": index, "kind": kind, "left": "truth", "right": FROZEN, "expected": "left",
                "choice": "left" if correct else "right", "rater": rater}
    return {"index": index, "kind": kind, "left": METHOD, "right": versus, "choice": "left" if method_chosen else "right",
            "rater": rater}


def test_summary_counts_wins_and_excludes_raters_who_fail_a_check():
    answers = ([_answer("ann", "SLERP", k < 7) for k in range(10)] + [_answer("ann", "truth", False)]
               + [_answer("ann", None, None, "attention")] + [_answer("bob", "SLERP", True) for _ in range(5)]
               + [_answer("bob", None, None, "attention", correct=False), _answer("bob", None, None, "attention")])
    result = summary(answers, METHOD)
    truth, slerp = result.comparisons
    assert (truth["comparison"], truth["n"], truth["wins"], truth["rate"]) == (f"{METHOD} vs truth", 1, 0, 0.0)
    assert (slerp["n"], slerp["wins"], slerp["rate"], slerp["excluded"]) == (10, 7, 0.7, 5)
    assert (slerp["ci_low"], slerp["ci_high"]) == pytest.approx((0.34755, 0.93326), abs=1e-5)
    assert result.excluded_raters == ("bob",)
    assert [(r["rater"], r["checks"], r["passed"], r["pass_rate"]) for r in result.raters] == [("ann", 1, 1, 1.0),
                                                                                                ("bob", 2, 1, 0.5)]
    with pytest.raises(SignlibError, match="neither side"):
        summary(answers, "SignLLM")


def test_simulated_raters_show_their_preference_and_careless_ones_are_excluded(many, work, tmp_path):
    study = build_study(many, 5, comparisons=["SLERP"], attention_checks=2, workdir=work)
    path = tmp_path / "answers.jsonl"
    simulate(study, path, "keen", {"SLERP": 0.9}, seed=0)
    row, = summary(read_answers(path), METHOD).comparisons
    assert row["n"] == 60 and row["ci_low"] > 0.5 and 0.75 < row["rate"] < 1.0
    simulate(study, path, "contrary", {"SLERP": 0.1}, seed=1)
    simulate(study, path, "careless", {"SLERP": 0.0}, seed=2, attention=0.0)
    result = summary(read_answers(path), METHOD)
    row, = result.comparisons
    assert row["n"] == 120 and row["excluded"] == 60 and row["ci_low"] < 0.5 < row["ci_high"]
    assert result.excluded_raters == ("careless",)
    assert {r["rater"]: r["pass_rate"] for r in result.raters} == {"careless": 0.0, "contrary": 1.0, "keen": 1.0}
    with pytest.raises(SignlibError, match="prefer needs a probability"):
        simulate(study, path, "x", {"truth": 0.5}, seed=0)


def test_a_session_resumes_at_the_first_unanswered_trial(small, work, tmp_path):
    study = build_study(small, 0, workdir=work)
    path = tmp_path / "a.jsonl"
    session = Session(study, path, "ann")
    assert session.progress == (0, len(study.trials)) and session.current == study.trials[0]
    for side in ("left", "right", "left"):
        session.answer(side)
    again = Session(study, path, "ann")
    assert again.progress == (3, len(study.trials)) and again.current.index == 3
    assert Session(study, path, "bob").current.index == 0  # another rater starts afresh
    assert Session(build_study(small, 9, workdir=work), path, "ann").current.index == 0  # another study too
    simulate(study, path, "ann", {x: 0.5 for x in OTHERS}, seed=0)
    done = Session(study, path, "ann")
    assert done.done and done.progress == (len(study.trials),) * 2
    assert sum(a["rater"] == "ann" for a in read_answers(path)) == len(study.trials)
    with pytest.raises(SignlibError, match="answered every trial"):
        done.answer("left")


def test_the_view_records_each_press_and_ends_with_the_summary(small, tmp_path):
    study = build_study(small, 0, attention_checks=0)
    path = tmp_path / "a.jsonl"
    view = PreferenceView(Session(study, path, "ann"))
    assert isinstance(view.widget, ipywidgets.VBox) and view.progress.value == f"trial 1 of {len(study.trials)}"
    left, right = view.videos.children
    assert isinstance(left, ipywidgets.Video) and left.autoplay and left.loop
    assert left.value == study.trials[0].left_path.read_bytes() and right.value == study.trials[0].right_path.read_bytes()
    view.choose("right")
    assert read_answers(path)[0]["choice"] == "right" and view.progress.value == f"trial 2 of {len(study.trials)}"
    view.left_button.click()  # the button goes through the same path
    assert [a["choice"] for a in read_answers(path)] == ["right", "left"]
    view._press("sideways")  # a bad press shows an error instead of raising in the frontend
    assert "choice" in view.message.value and len(read_answers(path)) == 2
    while not view.session.done:
        view.choose("left")
    assert view.videos.children == () and view.buttons.layout.display == "none"
    assert f"{METHOD} vs SLERP" in view.result.value and "done" in view.progress.value
