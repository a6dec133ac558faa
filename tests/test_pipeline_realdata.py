"""The whole pipeline at the smoke profile on a real ``.pose`` corpus: the 32 real DGS sentences
of the shared real-data folder (MediaPipe keypoints, gloss tiers and German text in ELAN files;
:func:`signlib.data.realdata.write_dgs_corpus`), with no isolated-sign dictionary. Every stage must
run; the parts that need a dictionary (FAST's citation windows, the tri-frame dictionary, Table 1b,
retrieval T2P) are skipped with a note. Skipped when the real-data folder is absent."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from signlib.data.realdata import write_dgs_corpus  # noqa: E402
from test_pipeline import GIT, REALDATA, _run, copy_repository, user_env  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.realdata,
              pytest.mark.skipif(REALDATA is None, reason="real-data folder absent (set SIGNLIB_REALDATA)")]


@pytest.fixture(scope="module")
def real_repo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("realcorpus")
    dst = copy_repository(tmp / "repo")
    write_dgs_corpus(dst / "dgs_corpus", REALDATA)
    params = yaml.safe_load((dst / "params.yaml").read_text())
    params["base"].update(profile="smoke", data_dir="dgs_corpus")
    # Two ablation variants cover the real-corpus paths (training on keypoints, a variant the corpus
    # cannot have, the notebook with most rows missing) at a seventh of the fifteen stages' start-up
    # time; the smoke pipeline test trains all of them.
    keep = ("signspark", "languages_1")
    params["ablations"]["variants"] = {k: v for k, v in params["ablations"]["variants"].items() if k in keep}
    (dst / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = user_env(tmp)
    _run([*GIT, "init", "-q"], dst, env)
    _run([".venv/bin/dvc", "pull", "-q", "data.dvc"], dst, env)  # the default input stays restorable
    log = _run([".venv/bin/dvc", "repro"], dst, env)
    return dst, log


def _metrics(dst: Path, stage: str) -> dict:
    return json.loads((dst / "results" / stage / "metrics.json").read_text())


def _outputs(dst: Path, stage: str, notebook: str) -> str:
    cells = json.loads((dst / "results" / stage / f"{notebook}.ipynb").read_text())["cells"]
    outs = [o for c in cells for o in c.get("outputs", [])]
    assert not [o for o in outs if o.get("output_type") == "error"]
    return "".join("".join(o.get("text", "")) for o in outs)


def test_the_real_corpus_is_read_as_pose_files_with_gloss_and_text_tiers(real_repo):
    dst, _ = real_repo
    index = json.loads((dst / "build/corpus/curated/index.json").read_text())
    assert index["layout"] == "xyz_mediapipe" and index["clips"]
    assert all(c["language"] == "DGS" and c["text"] and c["glosses"] for c in index["clips"])
    corpus = _metrics(dst, "corpus")["corpus"]
    assert corpus["dictionary_entries"] == 0 and corpus["signers"]["test"] >= 1
    assert "no isolated-sign dictionary" in _outputs(dst, "corpus", "01_curate_poses")


def test_every_stage_runs_and_skips_what_needs_a_dictionary(real_repo):
    dst, log = real_repo
    stages = yaml.safe_load((dst / "dvc.yaml").read_text())["stages"]
    assert all(f"Running stage '{s}{'@' if 'foreach' in spec else chr(39)}" in log for s, spec in stages.items())
    # the real corpus is DGS only: the Fig 5a variants that need ASL say why they were not trained
    assert "ablation variant languages_1 not trained: the corpus has no ASL" in log
    assert (dst / "models/ablations/languages_1/skipped.json").exists()
    assert (dst / "models/ablations/signspark/seed1/final.pt").exists()
    assert _metrics(dst, "ablations")["claims"]
    assert "training windows come from sentences only" in log
    assert not (dst / "build/keyframes/triframe.npz").exists()
    assert "no tri-frame dictionary" in _outputs(dst, "keyframes", "03_mine_keyframes")
    assert _metrics(dst, "keyframes")["triframe"] == {}
    assert "retrieval T2P skipped" in _outputs(dst, "signspark", "04_train_signspark")
    evaluate = _metrics(dst, "evaluate")
    assert "table1b" not in evaluate and "table2" in evaluate
    assert "signspark_sr_t2p" not in evaluate["table2"] and "soke_style_retrieval" not in evaluate["table2"]
    assert {"soke_style", "signllm_mlsf", "signllm_prompt2langgloss"} <= set(evaluate["table2"])
    assert (dst / "models/evaluate/soke_retrieval/skipped.json").exists()
    assert not (dst / "results/evaluate/tables/table1b_stitching.md").exists()
    assert "Table 1b (stitching) and retrieval T2P are skipped" in _outputs(dst, "evaluate", "05_evaluate")
    # keypoints have no joint rotations: skeleton and capsule-mesh videos, no avatar
    assert "no Gaussian avatar" in _outputs(dst, "render", "07_render")
    videos = {p.stem.rsplit("_", 1)[1] for p in (dst / "results/render/videos").glob("*.mp4")}
    assert videos == {"skeleton", "mesh", "compare"}


def test_a_second_repro_on_the_real_corpus_does_nothing(real_repo):
    dst, _ = real_repo
    env = user_env(dst.parent)
    assert "up to date" in _run([".venv/bin/dvc", "status"], dst, env)


def test_the_curated_real_clips_are_normalised_to_the_shoulders(real_repo):
    dst, _ = real_repo
    out = subprocess.run([sys.executable, "-c", "from signlib.data.corpus import Corpus; import numpy as np; "
                          "c = Corpus('build/corpus/curated'); s = c.load(c.clips[0].id); "
                          "x = s.features.reshape(len(s.features), -1, 3); "
                          "print(np.linalg.norm(x[:, 1] - x[:, 2], axis=-1).mean())"],
                         cwd=dst, capture_output=True, text=True, check=True).stdout
    assert abs(float(out) - 1.0) < 0.05  # mean shoulder width 1 after curation
