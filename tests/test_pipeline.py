"""The whole pipeline at the smoke profile, from a copy of the repository as a user has it, run the
way the README writes it: ``.venv/bin/dvc pull data.dvc`` and ``.venv/bin/dvc exp run -S
base.profile=smoke``, with no environment activated and the workspace's ``.venv`` not on the PATH
(stage commands find it through ``bin/python``).

Also checked here: a second ``dvc repro`` does nothing; every file a stage reads under ``build/``,
``models/`` and the input folder is covered by its ``dvc.yaml`` deps (traced at run time with an
audit hook, ``SIGNLIB_TRACE_READS``); ``dvc exp show`` lists two experiments with their metrics
(the second one ``--temp``); ``dvc metrics diff`` compares two commits.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from signlib.data.realdata import realdata_dir

REPO = Path(__file__).resolve().parents[1]
# Where signlib finds the real samples ($SIGNLIB_REALDATA or ../shared/realdata); None when absent.
REALDATA = realdata_dir()
GIT = ["git", "-c", "user.name=signlib tests", "-c", "user.email=tests@signlib.invalid", "-c", "commit.gpgsign=false"]


def _run(args, cwd, env, timeout=900, stdout_only=False):
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout if stdout_only else proc.stdout + proc.stderr


def copy_repository(dst: Path) -> Path:
    """The working tree (tracked and untracked, not ignored files) at ``dst``, its ``.venv`` a link
    to the environment running the tests, and a git repository with one commit."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst / rel)
    (dst / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return dst


def user_env(tmp: Path) -> dict:
    """A shell as a user has it: the venv neither activated nor on the PATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != bin_dir)
    env.update(DVC_NO_ANALYTICS="1", DVC_NO_UPDATE_CHECK="1", SIGNLIB_TRACE_READS=str(tmp / "reads.tsv"))
    if REALDATA is not None:  # the copy lives elsewhere, so point its stages at the shared real samples
        env["SIGNLIB_REALDATA"] = str(REALDATA)
    return env


@pytest.fixture(scope="module")
def smoke_repo(tmp_path_factory):
    """The repository copy after ``dvc pull`` and ``dvc exp run -S base.profile=smoke``."""
    tmp = tmp_path_factory.mktemp("clone")
    dst = copy_repository(tmp / "repo")
    env = user_env(tmp)
    _run([*GIT, "init", "-q"], dst, env)
    _run([*GIT, "add", "-A"], dst, env)
    _run([*GIT, "commit", "-q", "-m", "copy"], dst, env)
    _run([".venv/bin/dvc", "pull", "-q", "data.dvc"], dst, env)
    log = _run([".venv/bin/dvc", "exp", "run", "-S", "base.profile=smoke"], dst, env)
    return dst, env, log, tmp / "reads.tsv"


def _metrics(dst: Path, stage: str) -> dict:
    return json.loads((dst / "results" / stage / "metrics.json").read_text())


def _no_error_cells(path: Path) -> bool:
    cells = json.loads(path.read_text())["cells"]
    return not [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_corpus_stage_builds_and_reports_the_corpus(smoke_repo):
    dst = smoke_repo[0]
    metrics = _metrics(dst, "corpus")
    assert metrics["corpus"]["clips"] > 0 and metrics["corpus"]["languages"] == 4
    assert metrics["corpus"]["signers"]["test"] >= 1
    assert (dst / "build/corpus/curated/index.json").exists() and (dst / "build/corpus/dictionary/index.json").exists()
    assert (dst / "build/corpus/source/corpus.yaml").exists()  # the generated corpus, in real formats
    assert metrics["hardness"]["slerp"]["body_mean"] > 0 and metrics["hardness"]["slerp"]["hand_mean"] > 0
    assert "| all | ground truth | " in (dst / "results/corpus/tables/hardness.md").read_text()
    assert metrics["hardness"]["mean"]["body_mean"] > metrics["hardness"]["slerp"]["body_mean"] > 0
    assert all((dst / "results/corpus/tables" / f"{t}.md").exists() for t in ("hardness", "stats", "quality",
                                                                            "frequency"))
    assert metrics["hardness"]["naive"]["body_mean"] > 0  # the generated corpus has a dictionary
    freq = metrics["frequency"]
    assert set(freq) == {"ASL", "BSL", "CSL", "DGS", "all"} and freq["all"]["test_tokens"] > 0
    assert 0 <= freq["all"]["test_unseen_pct"] <= freq["all"]["test_rare_pct"] <= 100
    assert any((dst / "results/corpus/figures").glob("example_*.png"))
    assert _no_error_cells(dst / "results/corpus/01_curate_poses.ipynb")


@pytest.mark.slow
def test_fast_and_keyframes_stages_write_models_tables_and_keyframes(smoke_repo):
    dst = smoke_repo[0]
    fast = _metrics(dst, "fast")
    assert 0 <= fast["table1a"]["fast"]["frame_f1"] <= 1 and fast["throughput_frames_per_s"]["fast"] > 0
    assert set(fast["fig4a"]) == {"fast", "downsample", "no_conv", "no_dropout", "single_stream"}
    for stem in ("table1a", "fig4a"):
        assert all((dst / "results/fast/tables" / f"{stem}.{ext}").exists() for ext in ("md", "csv", "tex"))
    assert (dst / "models/fast/fast/final.pt").exists() and (dst / "models/fast/fast/model.json").exists()
    assert json.loads((dst / "results/fast/plots/train_loss.json").read_text())
    kf = json.loads((dst / "build/keyframes/keyframes.json").read_text())
    assert set(kf["keyframes"]) == {"onset_mid_offset", "random", "masked_segments"}
    assert (dst / "build/keyframes/segments.pt").exists() and (dst / "build/keyframes/triframe.npz").exists()
    assert any((dst / "build/keyframes/eaf").glob("*.eaf"))
    metrics = _metrics(dst, "keyframes")
    assert 0 <= metrics["test"]["keyframe_agreement"] <= 1 and metrics["triframe"]["entries"] > 0
    for stage, notebook in (("fast", "02_train_fast"), ("keyframes", "03_mine_keyframes")):
        assert _no_error_cells(dst / "results" / stage / f"{notebook}.ipynb")


@pytest.mark.slow
def test_signspark_stage_writes_the_generator_text2gloss_curves_and_examples(smoke_repo):
    dst = smoke_repo[0]
    folder = dst / "models/signspark/signspark"
    assert all((folder / name).exists() for name in ("final.pt", "last.pt", "config.json", "model.json"))
    assert (dst / "models/signspark/text2gloss/model.json").exists()
    curve = json.loads((dst / "results/signspark/plots/train_loss.json").read_text())
    assert curve and {"step", "loss", "cfm", "recon", "vel"} <= set(curve[-1])
    metrics = _metrics(dst, "signspark")
    assert metrics["kf2p_check"]["kf2p"]["body_mean"] > 0 and metrics["kf2p_check"]["slerp"]["hand_mean"] > 0
    assert {p.name.split("_")[1] for p in (dst / "results/signspark/figures").glob("examples_*.png")} == \
        {"ASL", "BSL", "DGS", "CSL"}
    assert all((dst / f"results/signspark/tables/kf2p_check.{ext}").exists() for ext in ("md", "csv", "tex"))
    assert _no_error_cells(dst / "results/signspark/04_train_signspark.ipynb")


@pytest.mark.slow
def test_evaluate_stage_writes_tables_1b_2_3_claims_figure_and_metrics(smoke_repo):
    dst = smoke_repo[0]
    tables = dst / "results/evaluate/tables"
    for stem in ("table1b_stitching", "table2_t2p", "table3_kf2p", "claims", "backtranslation_upper_bound"):
        assert all((tables / f"{stem}.{ext}").exists() for ext in ("md", "csv", "tex")), stem
    table2 = (tables / "table2_t2p.md").read_text()
    assert "DTW-PA-JPE body (cm/step)" in table2 and "(m, path total)" in table2 and "±" in table2
    for system in ("Regression (PT-like)", "SignSparK T2P (no keyframes)", "SignSparK SR-T2P (retrieved keyframes)",
                   "SOKE-style", "SOKE-style + retrieval", "SignLLM MLSF", "SignLLM Prompt2LangGloss"):
        assert f"| {system} |" in table2, system
    assert all(lang in table2 for lang in ("| ASL |", "| BSL |", "| DGS |", "| CSL |", "| all |"))
    table3 = (tables / "table3_kf2p.md").read_text()
    assert "BLEU drop (%)" in table3 and "| GT |" in table3 and "| SLERP |" in table3
    assert "| Keyframe track (prior alone) |" in table3
    metrics = _metrics(dst, "evaluate")
    assert set(metrics["claims"]) == {"kf2p_beats_slerp_whole_clip", "kf2p_beats_slerp_keyframed_span",
                                      "kf2p_beats_slerp_keyframed_span_every_language",
                                      "kf2p_beats_its_keyframe_track_keyframed_span",
                                      "retrieval_t2p_beats_gloss_free_t2p", "gloss_free_t2p_beats_regression",
                                      "keyframe_stitching_beats_naive_stitching",
                                      "signspark_sr_t2p_beats_soke_style_retrieval",
                                      "gloss_free_signspark_t2p_beats_soke_style",
                                      "gloss_free_signspark_t2p_beats_soke_style_retrieval",
                                      "gloss_free_signspark_t2p_beats_signllm_mlsf",
                                      "gloss_free_signspark_t2p_beats_signllm_prompt2langgloss",
                                      "gloss_free_signspark_t2p_beats_every_t2p_baseline"}
    assert set(metrics["soke_tokenizer"]) == {"body", "left_hand", "right_hand"}
    assert all(row["reconstruction"] > 0 for row in metrics["soke_tokenizer"].values())
    for name in ("soke_style", "soke_style_retrieval", "signllm_mlsf", "signllm_prompt2langgloss"):
        assert metrics["table2"][name]["body_mean"] > 0, name
    assert all((tables / f"{stem}.md").exists() for stem in ("guidance_validation", "table3_by_frequency"))
    assert set(metrics["guidance"]) == {"kf2p_key_scale", "kf2p_text_scale", "kf2p_temperature", "t2p_text_scale"}
    assert metrics["table3_by_frequency"] and all(
        {"slerp", "keyframe_track", "signspark"} <= set(row) for row in metrics["table3_by_frequency"].values())
    assert metrics["table3"]["gt"]["body_mean"] == 0 and metrics["table3"]["slerp"]["body_mean"] > 0
    assert metrics["table2"]["regression"]["body_mean"] > 0
    assert 0 <= metrics["backtranslation"]["bleu4_ground_truth"] <= 100
    assert (dst / "results/evaluate/figures/regression_to_mean.png").exists()
    for name in ("backtranslation", "regression", "soke_tokenizer", "soke", "soke_retrieval", "signllm_mlsf/ASL",
                 "signllm_p2lg/prompt", "signllm_p2lg/pose"):
        assert (dst / "models/evaluate" / name / "final.pt").exists(), name
    if REALDATA is None:
        assert not (tables / "realdata_dgs.md").exists()
        assert (dst / "models/evaluate/realdata_signspark/skipped.json").exists()
    assert _no_error_cells(dst / "results/evaluate/05_evaluate.ipynb")


@pytest.mark.slow
def test_ablations_stage_trains_every_variant_per_seed_and_checks_the_claims(smoke_repo):
    dst = smoke_repo[0]
    params = yaml.safe_load((dst / "params.yaml").read_text())["ablations"]
    for variant in params["variants"]:
        for seed in (0, 1):  # the smoke profile's two seeds
            assert (dst / "models/ablations" / variant / f"seed{seed}" / "final.pt").exists(), variant
    tables = dst / "results/ablations/tables"
    for stem in ("budget", "fig4b", "fig4c", "fig5a", "fig5a_confusion", "guidance", "claims"):
        assert all((tables / f"{stem}.{ext}").exists() for ext in ("md", "csv", "tex")), stem
    for fig in ("fig4b_steps", "fig4c_policy_loss", "fig5a_languages"):
        assert (dst / "results/ablations/figures" / f"{fig}.png").exists()
    metrics = _metrics(dst, "ablations")
    assert set(metrics["claims"]) == {"segment_keyframes_beat_random", "masking_does_not_help",
                                      "recon_keeps_one_step_close_to_ten", "diffusion_collapses_at_few_steps",
                                      "language_token_removes_asl_bsl_confusion"}
    assert set(metrics["variants"]) == set(params["variants"])
    assert all(v["whole"] > 0 and v["whole_spread"] >= 0 for v in metrics["variants"].values())
    # the smoke profile stops the step grid at 10: no 100- or 1000-step rows
    assert {k.rsplit("_", 1)[1] for k in metrics["fig4b"]} == {"1", "2", "5", "10"}
    assert set(metrics["guidance"]) == {"signspark", "standard_prior"}
    verdicts = re.findall(r"\| ((?:lower|higher|no difference) / (?:lower|higher|no difference)) \|",
                          (tables / "fig4c.md").read_text())
    assert len(verdicts) == 8  # every policy, loss and prior variant against the reference
    assert _no_error_cells(dst / "results/ablations/06_ablations.ipynb")


@pytest.mark.slow
def test_render_stage_writes_playable_videos_panels_and_speeds(smoke_repo):
    from signlib.render.video import read_video

    dst = smoke_repo[0]
    out = dst / "results/render"
    videos = sorted((out / "videos").glob("*.mp4"))
    kinds = {p.stem.rsplit("_", 1)[1] for p in videos}
    assert {"skeleton", "mesh", "avatar", "compare"} <= kinds
    assert len([p for p in videos if p.stem.endswith("_avatar")]) == 4  # one test sentence per language
    for path in videos:
        frames = read_video(path)
        # the smoke profile renders 12 frames (profiles.Sizes.render_frames), every system at least that long
        assert frames.shape[0] == 12 and frames.dtype == "uint8", path.name
        assert frames.std() > 5, path.name  # not a blank picture
    assert not list((out / "videos").glob(".partial/*"))
    figures = {p.stem for p in (out / "figures").glob("*.png")}
    assert "contact_sheet" in figures and sum(f.startswith("panel_") for f in figures) == 4
    # The preference study's input: every clip's systems as separate, equally long videos.
    manifest = json.loads((out / "study" / "study.json").read_text())
    assert manifest["method"] == "SignSparK KF2P" and len(manifest["clips"]) == 4
    study = []
    for entry in manifest["clips"]:
        assert {"truth", "SignSparK KF2P", "SLERP", "SignSparK T2P"} <= set(entry["videos"]), entry
        study += [out / rel for rel in entry["videos"].values()]
    assert all(read_video(p).shape[0] == 12 for p in study)
    metrics = _metrics(dst, "render")
    assert metrics["videos"] == len(videos) + len(study) and metrics["frames_written"] == 12 * metrics["videos"]
    assert {"skeleton", "mesh", "avatar_cpu"} <= set(metrics["renderers"])
    assert all(r["frames"] > 0 and r["seconds_per_frame"] > 0 for r in metrics["renderers"].values())
    assert _no_error_cells(out / "07_render.ipynb")


@pytest.mark.slow
def test_report_stage_writes_one_page_that_mentions_every_stage(smoke_repo):
    from urllib.parse import unquote

    dst = smoke_repo[0]
    out = dst / "results/report"
    md, page = (out / "report.md").read_text(), (out / "report.html").read_text()
    stages = yaml.safe_load((dst / "dvc.yaml").read_text())["stages"]
    notebooks = [n for n, spec in stages.items() if "signlib.notebook" in spec.get("cmd", "") and n != "report"]
    assert notebooks == ["corpus", "fast", "keyframes", "signspark", "evaluate", "ablations", "render"]
    for k, name in enumerate(notebooks, 1):  # a section per notebook stage, in pipeline order, with its description
        assert f"\n## {k}. {name}\n\n{stages[name]['desc']}\n" in md and f'<h2 id="{k}-{name}">' in page, name
    variants = yaml.safe_load((dst / "params.yaml").read_text())["ablations"]["variants"]
    every = [n for n in stages if "foreach" not in stages[n] and n != "report"]
    every += [f"train_ablation@{v}" for v in variants]
    assert all(f"\n| {name} | " in md for name in every)  # the stage-times table lists every stage
    assert _metrics(dst, "report")["stages"] == {"built": 7, "not_built": 0}
    assert "### evaluate: claims" in md and "### ablations: claims" in md
    # every table and figure, the figures embedded: the page needs no other file and makes no request
    tables = sorted((dst / "results").glob("*/tables/*.md"))
    assert all(f"]({os.path.relpath(t, out)})" in md for t in tables)
    figures = sorted((dst / "results").glob("*/figures/*.png"))
    sources = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(sources) == len(figures) and all(s.startswith("data:image/png;base64,") for s in sources)
    assert 'src="http' not in page and "<script" not in page and "<link" not in page
    videos = {p.resolve() for p in (dst / "results/render/videos").glob("*.mp4")}
    links = [h for h in re.findall(r"\]\(([^)]+)\)", md) if "/videos/" in h]
    assert videos and {(out / unquote(h)).resolve() for h in links} == videos and len(links) == len(videos)
    assert _no_error_cells(out / "08_report.ipynb")


@pytest.mark.slow
def test_second_repro_finds_nothing_to_do_and_dag_lists_every_stage(smoke_repo):
    dst, env, _, _ = smoke_repo
    assert "up to date" in _run([".venv/bin/dvc", "status"], dst, env)
    again = _run([".venv/bin/dvc", "repro"], dst, env)
    assert "didn't change" in again or "up to date" in again, again
    dag = _run([".venv/bin/dvc", "dag"], dst, env)
    assert all(stage in dag for stage in yaml.safe_load((dst / "dvc.yaml").read_text())["stages"])


@pytest.mark.slow
def test_every_file_a_stage_reads_is_one_of_its_deps(smoke_repo):
    dst, _, _, reads = smoke_repo
    params = yaml.safe_load((dst / "params.yaml").read_text())["base"]
    stages = yaml.safe_load((dst / "dvc.yaml").read_text())["stages"]
    watched = [dst / params[k] for k in ("build_dir", "models_dir", "data_dir")]
    seen, uncovered = set(), []
    for line in reads.read_text().splitlines():
        stage, path = line.split("\t")
        path = Path(path)
        seen.add(stage)
        if REALDATA is not None and REALDATA in path.parents:
            if "realdata.json" not in stages[stage]["deps"]:
                uncovered.append(f"{stage} reads {path} without depending on realdata.json")
            continue
        if not any(w == path or w in path.parents for w in watched):
            continue
        spec = stages[stage].get("do", stages[stage])  # a foreach stage: its template, any ${key}
        mine = [str(next(iter(o)) if isinstance(o, dict) else o) for o in spec.get("outs", [])] + spec["deps"]
        mine = [dst / m.replace("${key}", "").replace("${base.build_dir}", params["build_dir"]).replace("${base.models_dir}", params["models_dir"])
                .replace("${base.data_dir}", params["data_dir"]).replace("${base.results_dir}", params["results_dir"])
                for m in mine]
        if not any(m == path or m in path.parents for m in mine):
            uncovered.append(f"{stage} reads {path.relative_to(dst)}, which is not among its deps or outs")
    assert seen == set(stages), f"stages that never traced: {set(stages) - seen}"
    assert uncovered == []


@pytest.mark.slow
def test_exp_show_lists_two_experiments_and_metrics_diff_compares_commits(smoke_repo):
    dst, env, _, _ = smoke_repo
    # A second experiment in a temporary copy (`dvc exp run --temp`, as the README shows it): only
    # the stages reading the sampler rerun, the rest come from DVC's run cache
    log = _run([".venv/bin/dvc", "exp", "run", "--temp", "-S", "base.profile=smoke", "-S", "signspark.sampler.steps=4"],
               dst, env)
    # (render draws SignSparK's samples, so it reruns too; the report reads all three)
    assert set(re.findall(r"Running stage '(\w+)'", log)) == {"signspark", "evaluate", "render", "report"}, log
    rows = json.loads(_run([".venv/bin/dvc", "exp", "show", "--json"], dst, env, stdout_only=True))
    experiments = [e for row in rows for e in (row.get("experiments") or [])]
    assert len(experiments) >= 2
    for exp in experiments:
        data = exp["revs"][0]["data"]
        assert data["metrics"]["results/evaluate/metrics.json"]["data"]["table3"]["slerp"]["body_mean"] > 0
    # Metrics in git: commit the first experiment, apply the second and commit it; diff the commits.
    _run([*GIT, "add", "-A"], dst, env)
    _run([*GIT, "commit", "-q", "-m", "smoke run"], dst, env)
    second = next(e["name"] for e in experiments if e["revs"][0]["data"]["params"]["params.yaml"]["data"]
                  ["signspark"]["sampler"]["steps"] == 4)
    _run([".venv/bin/dvc", "exp", "apply", second], dst, env)
    _run([*GIT, "add", "-A"], dst, env)
    _run([*GIT, "commit", "-q", "-m", "four sampler steps"], dst, env)
    diff = _run([".venv/bin/dvc", "metrics", "diff", "HEAD~1", "HEAD"], dst, env)
    assert "results/evaluate/metrics.json" in diff and "table3.signspark.body_mean" in diff


@pytest.mark.slow
def test_the_explore_notebook_runs_on_the_built_workspace(smoke_repo, tmp_path):
    """What a user opens after `make repro`: the explorer, the editor over the trained model and the
    preference study over the render stage's videos all build (headless: widgets without a front end)."""
    dst, env = smoke_repo[0], smoke_repo[1]
    out = tmp_path / "explore.ipynb"
    _run([".venv/bin/python", "-m", "papermill", "-k", "python3", "notebooks/explore.ipynb", str(out),
          "-p", "answers_path", str(tmp_path / "answers" / "answers.jsonl")], dst, env)
    assert _no_error_cells(out)
    assert out.read_text().count("application/vnd.jupyter.widget-view+json") >= 3  # explorer, editor, study
    assert any((tmp_path / "answers" / "study_work").rglob("*.mp4"))  # the attention checks' frozen videos
    assert not (dst / "study_answers").exists()  # the answers went where the parameter said
