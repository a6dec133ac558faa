"""The workshop tutorial (``notebooks/tutorial/``, ``signlib/tutorial/``).

Every notebook runs headless with papermill in a fresh working folder and shows its figures and tables; the
notebooks stay thin (a parameters cell first, no function, class or lambda) and their solutions are hidden
behind a "click to reveal"; and the toy models do what the notebooks say they do. Training runs are shorter
than the notebooks' defaults so the whole file takes about two minutes on a 2-core CPU; the behaviour
asserted was checked on more seeds than are run here.
"""

import ast
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from signlib.data.corpus import Corpus
from signlib.errors import SignlibError
from signlib.keyframes import Keyframes
from signlib.render.video import read_video
from signlib.tutorial import compare, workshop
from signlib.tutorial.distances import nearest_distance, reference, sliced_wasserstein
from signlib.tutorial.keyframes1d import (KeyframeConfig, even_keyframes, keyframe_rows, linear_interpolation,
                                          random_curves, random_keyframes, sample_keyframed, seam_jump,
                                          train_keyframe_net)
from signlib.tutorial.toy2d import ToyConfig, ToyNet, euler_sample, toy_data, train_toy

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks" / "tutorial").glob("[0-9][0-9]_*.ipynb"))
#: Shorter training than the defaults (every cell still runs): about 2 minutes for the whole file.
TEST_PARAMETERS = {"01_flow_matching": {"train_steps": 400}, "02_keyframe_conditioning": {"train_steps": 300},
                   "03_signspark": {"train_steps": 100}}
#: Names a parameters cell may set, each to a literal.
PARAMETER_NAMES = {"workdir", "model_path", "train_steps", "seed", "threads", "languages", "clips_per_language",
                   "video_frames"}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # These models are tiny: one thread is fastest, and leaves the other core to whatever else runs.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# -------------------------------------------------------------- the notebooks as files

def test_there_are_the_three_tutorial_notebooks_and_a_readme():
    assert [p.stem for p in NOTEBOOKS] == ["01_flow_matching", "02_keyframe_conditioning", "03_signspark"]
    assert (REPO / "notebooks" / "tutorial" / "README.md").is_file()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_first_code_cell_is_a_tagged_parameters_cell_of_literals(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    assert code[0]["metadata"].get("tags") == ["parameters"]
    body = ast.parse("".join(code[0]["source"])).body
    assert body and all(isinstance(node, ast.Assign) for node in body)
    names = {t.id for node in body for t in node.targets}
    assert names <= PARAMETER_NAMES and {"train_steps", "seed", "threads"} <= names
    for node in body:
        ast.literal_eval(node.value)  # paths, flags and sizes: literals only
    if path.stem == "03_signspark":
        assert {"workdir", "model_path"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_is_hidden_tagged_and_announced(path):
    cells = _cells(path)
    assert all("id" in c for c in cells)
    for k, cell in enumerate(cells):
        tags = cell["metadata"].get("tags", [])
        hidden = cell["metadata"].get("jupyter", {}).get("source_hidden", False)
        assert ("solution" in tags) == hidden, f"cell {cell['id']}: a solution is hidden and tagged, nothing else"
        if "solution" in tags:
            assert cell["cell_type"] == "code"
            before = cells[k - 1]
            assert before["cell_type"] == "markdown" and "click to reveal" in "".join(before["source"]).lower()


def test_there_are_three_to_five_exercises_each_with_a_solution():
    solutions = [c for p in NOTEBOOKS for c in _cells(p) if "solution" in c["metadata"].get("tags", [])]
    exercises = [c for p in NOTEBOOKS for c in _cells(p)
                 if c["cell_type"] == "markdown" and "### Exercise" in "".join(c["source"])]
    assert 3 <= len(solutions) <= 5 and len(exercises) == len(solutions)


# -------------------------------------------------------------- the notebooks, executed

@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """``run(stem) -> (executed notebook JSON, working folder)``; each notebook runs once per module."""
    import papermill

    done = {}

    def run(stem: str):
        if stem not in done:
            folder = tmp_path_factory.mktemp(stem)
            params = dict(TEST_PARAMETERS[stem])
            if stem == "03_signspark":
                params["workdir"] = str(folder / "work")
            target = folder / f"{stem}.ipynb"
            # cwd: whatever a notebook writes by itself would land in the temporary folder, not the repo.
            papermill.execute_notebook(str(REPO / "notebooks" / "tutorial" / f"{stem}.ipynb"), str(target),
                                       parameters=params, cwd=str(folder), kernel_name="python3",
                                       progress_bar=False, log_output=False)
            done[stem] = (json.loads(target.read_text(encoding="utf-8")), folder)
        return done[stem]

    return run


def _outputs(nb: dict, mime: str) -> list[str]:
    return ["".join(o["data"][mime]) for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if mime in o.get("data", {})]


def _streams(nb: dict) -> str:
    return "".join("".join(o["text"]) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []) if o["output_type"] == "stream" and o["name"] == "stdout")


@pytest.mark.parametrize("stem,figures,tables", [("01_flow_matching", 9, 3), ("02_keyframe_conditioning", 5, 3),
                                                 ("03_signspark", 4, 1)])
def test_each_notebook_runs_headless_and_shows_its_figures_and_tables(executed, stem, figures, tables):
    nb, _ = executed(stem)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert errors == []
    assert len(_outputs(nb, "image/png")) >= figures
    assert len([md for md in _outputs(nb, "text/markdown") if "|---|" in md]) >= tables


def test_the_flow_matching_notebook_tables_every_step_count_with_and_without_recon(executed):
    nb, _ = executed("01_flow_matching")
    tables = "\n".join(_outputs(nb, "text/markdown"))
    for model in ("velocity net", "clean net, L_CFM", "clean net, L_CFM + L_recon"):
        for steps in (1, 2, 5, 20):
            assert f"| {model} | {steps} |" in tables
    assert "1 Euler step: nearest" in _streams(nb)


def test_the_keyframe_notebook_reports_curves_through_their_keyframes(executed):
    nb, _ = executed("02_keyframe_conditioning")
    assert "Largest keyframe error of any flow output: 0.0e+00" in _streams(nb)


def test_the_signspark_notebook_writes_a_video_and_a_model_that_loads_back(executed):
    nb, folder = executed("03_signspark")
    work = folder / "work"
    videos = list(work.glob("kf2p_vs_slerp.*"))
    assert len(videos) == 1 and len(read_video(videos[0])) > 10
    assert "| SLERP |" in "\n".join(_outputs(nb, "text/markdown"))
    assert "largest distance of KF2P from its keyframes: 0.0e+00" in _streams(nb)
    corpus = Corpus(work / "curated")
    loaded = workshop.load_or_train(str(work / "model"), corpus, work)
    assert loaded.how.startswith("loaded from") and loaded.model.config.layout == corpus.layout
    clips, keys = workshop.test_clips(corpus, 1)
    request = Keyframes.from_sequence(clips[0], keys[0])
    out = compare.examples(loaded.model, clips[0], keys[0])["SignSparK KF2P"]
    assert compare.keyframe_gap(out, request) == 0.0


# -------------------------------------------------------------- flow matching on 2-D points

@pytest.fixture(scope="module")
def unconditional():
    return train_toy(ToyConfig(steps=400, seed=0), progress=False)


def test_twenty_euler_steps_land_closer_to_the_data_than_noise(unconditional):
    data = reference()
    samples = euler_sample(unconditional.net, 2000, 20, seed=1)
    noise = torch.randn(2000, 2, generator=torch.Generator().manual_seed(1))
    assert nearest_distance(samples, data) < 0.5 * nearest_distance(noise, data)
    assert sliced_wasserstein(samples, data) < 0.5 * sliced_wasserstein(noise, data)


def test_one_euler_step_from_noise_lands_near_the_data_mean(unconditional):
    data = reference()
    one = euler_sample(unconditional.net, 2000, 1, seed=1)
    assert (one - data.mean(0)).norm(dim=1).mean() < 0.5  # the ring has radius 2


@pytest.mark.parametrize("seed", [0, 1])
def test_the_reconstruction_loss_brings_one_step_samples_of_a_clean_sample_net_closer(seed):
    # Checked on seeds 0-4 at 600 and 1500 steps: with L_recon the distance was 45-61 % of that without.
    runs = [train_toy(ToyConfig(predicts="clean", conditional=True, recon_weight=w, steps=600, seed=seed),
                      progress=False) for w in (0.0, 1.0)]
    data = reference()
    plain, recon = (nearest_distance(euler_sample(r.net, 2000, 1, seed), data) for r in runs)
    assert recon < 0.75 * plain


@pytest.mark.parametrize("predicts", ["velocity", "clean"])
def test_the_clean_estimate_is_one_euler_step_to_the_end_for_both_parametrisations(predicts):
    torch.manual_seed(0)
    net = ToyNet(ToyConfig(predicts=predicts, conditional=True)).eval()
    x, t, labels = torch.randn(64, 2), torch.rand(64) * 0.9, torch.randint(0, 8, (64,))
    with torch.no_grad():
        torch.testing.assert_close(net.clean(x, t, labels), x + (1 - t[:, None]) * net.velocity(x, t, labels))


def test_euler_sampling_follows_its_seed_and_needs_labels_for_a_conditional_net():
    net = ToyNet(ToyConfig(conditional=True)).eval()
    torch.testing.assert_close(euler_sample(net, 50, 3, seed=4), euler_sample(net, 50, 3, seed=4))
    assert not torch.equal(euler_sample(net, 50, 3, seed=4), euler_sample(net, 50, 3, seed=5))
    assert euler_sample(net, 50, 3, trajectory=True).shape == (4, 50, 2)
    with pytest.raises(SignlibError, match="pass the labels"):
        net(torch.zeros(2, 2), torch.zeros(2))
    with pytest.raises(SignlibError, match="steps"):
        euler_sample(net, 5, 0)


def test_the_toy_datasets_are_seeded_and_labelled():
    points, labels = toy_data(500, seed=3)
    assert points.shape == (500, 2) and set(labels.tolist()) == set(range(8))
    torch.testing.assert_close(points, toy_data(500, seed=3)[0])
    angle = 2 * math.pi * labels / 8  # every point lies near the centre of its own Gaussian
    centres = torch.stack([2 * torch.cos(angle), 2 * torch.sin(angle)], 1)
    assert (points - centres).norm(dim=1).max() < 1.0
    moons, moon_labels = toy_data(500, seed=3, kind="moons")
    assert moons.abs().max() < 3 and set(moon_labels.tolist()) == {0, 1}
    with pytest.raises(SignlibError, match="unknown toy dataset"):
        toy_data(5, kind="spiral")


def test_distances_match_their_closed_forms():
    data = reference(n=1000)
    assert nearest_distance(data, data) == 0.0
    assert sliced_wasserstein(data, data) == 0.0
    # A translation by d moves every projection on direction θ by d·θ: SW2 = |d|·sqrt(E cos²) = |d| / √2.
    d = torch.tensor([0.3, -0.4])
    assert sliced_wasserstein(data + d, data, projections=4096) == pytest.approx(0.5 / math.sqrt(2), rel=0.03)
    far = torch.full((10, 2), 100.0)
    assert nearest_distance(far, data) == pytest.approx(float(torch.cdist(far[:1], data).min()), rel=1e-6)
    with pytest.raises(SignlibError, match="equal-size"):
        sliced_wasserstein(data, data[:10])


# -------------------------------------------------------------- keyframe conditioning on 1-D curves

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_interpolation_matches_numpy_and_holds_the_ends(seed):
    curves, mask = random_curves(40, seed=seed), random_keyframes(40, count=(1, 6), seed=seed)
    got = linear_interpolation(curves * mask, mask).numpy()
    frames = np.arange(curves.shape[1])
    want = np.array([np.interp(frames, frames[m], c[m]) for c, m in zip(curves.numpy(), mask.numpy())])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_keyframe_masks_have_the_asked_counts():
    assert set(random_keyframes(200, count=(2, 4), seed=0).sum(1).tolist()) == {2, 3, 4}
    mask = even_keyframes(3, count=5)
    assert mask.sum(1).tolist() == [5, 5, 5] and mask[0].nonzero()[:, 0].tolist() == [4, 18, 32, 45, 59]
    with pytest.raises(SignlibError, match="no keyframe"):
        linear_interpolation(torch.zeros(1, 8), torch.zeros(1, 8, dtype=torch.bool))


@pytest.fixture(scope="module")
def keyframe_net():
    return train_keyframe_net(KeyframeConfig(steps=400, seed=0), progress=False).net


def test_generated_curves_pass_through_their_keyframes(keyframe_net):
    truth, mask = random_curves(64, seed=77), random_keyframes(64, count=(2, 8), seed=78)
    keys = truth * mask
    for steps, temperature in ((1, 1.0), (8, 1.0), (8, 0.0)):
        out = sample_keyframed(keyframe_net, keys, mask, steps, seed=3, temperature=temperature)
        assert torch.equal(out[mask], truth[mask])


def test_the_keyframe_net_beats_linear_interpolation_and_joins_its_keyframes_smoothly(keyframe_net):
    # Checked on seeds 0-3 at 400 steps: temperature 0 scored 0.087-0.102 against 0.159 for straight lines.
    truth, mask = random_curves(256, seed=999), even_keyframes(256, count=5)
    rows = {r["method"]: r for r in keyframe_rows(keyframe_net, truth, mask)}
    best = rows["flow, 8 steps, temperature 0"]
    assert best["rmse_between_keyframes"] < 0.8 * rows["linear interpolation"]["rmse_between_keyframes"]
    assert best["seam_jump"] < 1.5 * seam_jump(truth, mask)
    assert all(r["max_keyframe_error"] == 0.0 for r in rows.values())


# -------------------------------------------------------------- the workshop's keyframe editing

def _request(frames=(3, 10, 20), num_frames=30) -> Keyframes:
    return Keyframes(np.array(frames), np.random.default_rng(0).normal(size=(len(frames), 6)).astype(np.float32),
                     num_frames)


def test_moving_a_keyframe_keeps_its_pose_and_refuses_to_reorder():
    moved = compare.move_keyframe(_request(), 1, 5)
    assert moved.frames.tolist() == [3, 15, 20]
    np.testing.assert_array_equal(moved.features, _request().features)
    for index, shift in ((1, 10), (0, -4), (2, 10), (5, 1)):
        with pytest.raises(SignlibError, match="move_keyframe"):
            compare.move_keyframe(_request(), index, shift)
