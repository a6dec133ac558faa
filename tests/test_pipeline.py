"""The whole pipeline once, at the smoke profile, from a copy of the repository as a user has it.

This is the test that the README's run command works: DVC restores the embedded input corpus
from the committed remote (no network), `dvc repro` runs every stage's notebook through
papermill, and a second `dvc repro` finds nothing to do.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from signlib.data.realdata import realdata_dir

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# Where signlib finds the real samples ($SIGNLIB_REALDATA or ../shared/realdata); None when absent.
REALDATA = realdata_dir()


def _run(args, cwd, env):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def smoke_repo(tmp_path_factory):
    """A fresh copy of the working tree (tracked and untracked, not ignored files) with
    ``base.profile: smoke``, after ``dvc pull`` and ``dvc repro``."""
    if shutil.which("git") is None or not (BIN / "dvc").exists():
        pytest.skip("needs git and dvc in the test environment")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    dst = tmp_path_factory.mktemp("clone") / "repo"
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dst / rel)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    params["base"]["profile"] = "smoke"
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "DVC_NO_UPDATE_CHECK": "1"}
    if REALDATA is not None:  # the copy lives elsewhere, so point its stages at the shared real samples
        env["SIGNLIB_REALDATA"] = str(REALDATA)
    _run(["git", "init", "-q"], dst, env)
    _run([BIN / "dvc", "pull", "-q", "data.dvc"], dst, env)
    log = _run([BIN / "dvc", "repro"], dst, env)
    return dst, env, log


@pytest.mark.slow
def test_dvc_repro_builds_the_corpus_stage_at_smoke_profile(smoke_repo):
    dst, _, _ = smoke_repo
    metrics = json.loads((dst / "results/corpus/metrics.json").read_text())
    assert metrics["clips"] > 0 and metrics["languages"] == 4
    assert metrics["signers_test"] >= 1
    assert (dst / "build/corpus/curated/index.json").exists() and (dst / "build/corpus/dictionary/index.json").exists()
    assert (dst / "build/corpus/source/corpus.yaml").exists()  # the generated corpus, in real formats
    assert (dst / "results/corpus/tables/hardness.md").exists()
    assert metrics["hardness_slerp_body_mean"] > 0 and metrics["hardness_slerp_hand_mean"] > 0
    assert metrics["hardness_ground_body_total"] == 0
    assert (dst / "results/corpus/tables/stats.md").exists()
    assert any((dst / "results/corpus/figures").glob("example_*.png"))
    executed = json.loads((dst / "results/corpus/01_curate_poses.ipynb").read_text())
    assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_fast_and_keyframes_stages_write_tables_models_and_keyframes(smoke_repo):
    dst, _, _ = smoke_repo
    fast = json.loads((dst / "results/fast/metrics.json").read_text())
    assert 0 <= fast["fast_frame_f1"] <= 1 and fast["fast_frames_per_s"] > 0
    for stem in ("table1a", "fig4a"):
        assert all((dst / "results/fast/tables" / f"{stem}.{ext}").exists() for ext in ("md", "csv", "tex"))
    assert (dst / "models/fast/fast/final.pt").exists() and (dst / "models/fast/fast/model.json").exists()
    assert json.loads((dst / "results/fast/plots/train_loss.json").read_text())
    kf = json.loads((dst / "build/keyframes/keyframes.json").read_text())
    assert set(kf["keyframes"]) == {"onset_mid_offset", "random", "masked_segments"}
    assert (dst / "build/keyframes/segments.pt").exists() and (dst / "build/keyframes/triframe.npz").exists()
    assert any((dst / "build/keyframes/eaf").glob("*.eaf"))
    metrics = json.loads((dst / "results/keyframes/metrics.json").read_text())
    assert 0 <= metrics["test_keyframe_agreement"] <= 1 and metrics["triframe_entries"] > 0
    for name in ("01_curate_poses", "02_train_fast", "03_mine_keyframes"):
        stage = {"01": "corpus", "02": "fast", "03": "keyframes"}[name[:2]]
        executed = json.loads((dst / "results" / stage / f"{name}.ipynb").read_text())
        assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_signspark_stage_writes_the_generator_text2gloss_curves_and_examples(smoke_repo):
    dst, _, _ = smoke_repo
    folder = dst / "models/signspark/signspark"
    assert all((folder / name).exists() for name in ("final.pt", "last.pt", "config.json", "signspark.json"))
    assert (dst / "models/signspark/text2gloss/text2gloss.json").exists()
    curve = json.loads((dst / "results/signspark/plots/train_loss.json").read_text())
    assert curve and {"step", "loss", "cfm", "recon", "vel"} <= set(curve[-1])
    metrics = json.loads((dst / "results/signspark/metrics.json").read_text())
    assert metrics["test_kf2p_body_mean"] > 0 and metrics["test_slerp_hand_mean"] > 0
    assert {p.name.split("_")[1] for p in (dst / "results/signspark/figures").glob("examples_*.png")} == \
        {"ASL", "BSL", "DGS", "CSL"}
    for ext in ("md", "csv", "tex"):
        assert (dst / f"results/signspark/tables/kf2p_check.{ext}").exists()
    executed = json.loads((dst / "results/signspark/04_train_signspark.ipynb").read_text())
    assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_evaluate_stage_writes_tables_1b_2_3_claims_figure_and_metrics(smoke_repo):
    dst, _, _ = smoke_repo
    tables = dst / "results/evaluate/tables"
    for stem in ("table1b_stitching", "table2_t2p", "table3_kf2p", "claims", "backtranslation_upper_bound"):
        assert all((tables / f"{stem}.{ext}").exists() for ext in ("md", "csv", "tex")), stem
    table2 = (tables / "table2_t2p.md").read_text()
    assert "DTW-PA-JPE body (cm/step)" in table2 and "(m, path total)" in table2 and "±" in table2
    for system in ("Regression (PT-like)", "SignSparK T2P (no keyframes)", "SignSparK SR-T2P (retrieved keyframes)"):
        assert system in table2
    assert all(lang in table2 for lang in ("| ASL |", "| BSL |", "| DGS |", "| CSL |", "| all |"))
    table3 = (tables / "table3_kf2p.md").read_text()
    assert "BLEU drop (%)" in table3 and "| GT |" in table3 and "| SLERP |" in table3
    claims = (tables / "claims.md").read_text()
    assert claims.count("| yes |") + claims.count("| no |") == 5
    metrics = json.loads((dst / "results/evaluate/metrics.json").read_text())
    assert metrics["table3_gt_body_mean"] == 0 and metrics["table3_slerp_body_mean"] > 0
    assert metrics["table2_regression_body_mean"] > 0 and 0 <= metrics["bt_bleu4_ground_truth"] <= 100
    assert (dst / "results/evaluate/figures/regression_to_mean.png").exists()
    assert (dst / "models/evaluate/backtranslation/final.pt").exists()
    assert (dst / "models/evaluate/regression/final.pt").exists()
    if REALDATA is None:  # (with it, a smoke-trained FAST may find no sign in the real sentences)
        assert not (tables / "realdata_dgs.md").exists()
    executed = json.loads((dst / "results/evaluate/05_evaluate.ipynb").read_text())
    assert not [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.mark.slow
def test_second_repro_finds_nothing_to_do_and_dag_lists_the_stage(smoke_repo):
    dst, env, _ = smoke_repo
    status = _run([BIN / "dvc", "status"], dst, env)
    assert "up to date" in status, status
    again = _run([BIN / "dvc", "repro"], dst, env)
    assert "didn't change" in again or "up to date" in again, again
    dag = _run([BIN / "dvc", "dag"], dst, env)
    assert all(stage in dag for stage in ("corpus", "fast", "keyframes", "signspark", "evaluate"))
