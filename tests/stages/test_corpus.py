"""The corpus stage's reports: the sign-frequency table and the nested metrics."""

import json
from pathlib import Path

import numpy as np

from signlib.config import load_params
from signlib.data.corpus import write_corpus
from signlib.data.sequence import Sequence
from signlib.data.stats import language_stats, sign_frequency
from signlib.stages import corpus as corpus_stage
from signlib.stages.common import Stage

REPO = Path(__file__).resolve().parents[2]


def _build(tmp_path) -> corpus_stage.CorpusBuild:
    def seq(sid, signer, language, glosses):
        return Sequence(features=np.zeros((12, 147), np.float32), layout="xyz_mediapipe", fps=25, language=language,
                        signer=signer, id=sid, segments=[(2 * i, 2 * i + 1, g) for i, g in enumerate(glosses)])

    clips = [seq("a", "s1", "DGS", ["HAUS"] * 4), seq("b", "s2", "DGS", ["HAUS", "AUTO"]),
             seq("c", "s3", "CSL", ["我", "我"]), seq("d", "s4", "CSL", ["我", "你", "他"])]
    corpus = write_corpus(tmp_path / "curated", clips, {"s1": "train", "s2": "test", "s3": "train", "s4": "test"})
    quality = [{"language": "all", "dropped": 0, "missing_before_pct": 1.0, "missing_after_pct": 0.5}]
    return corpus_stage.CorpusBuild(corpus, None, "signlib", quality, language_stats(corpus),
                                    sign_frequency(corpus.clips))


def _stage(tmp_path) -> Stage:
    params = load_params(REPO / "params.yaml", base__results_dir=str(tmp_path / "results"))
    stage = Stage("corpus", params, interactive=False)
    (stage.results / "tables").mkdir(parents=True)
    return stage


def test_metrics_nest_the_sign_frequencies_per_language(tmp_path):
    build = _build(tmp_path)
    overall = {ref: {"body_mean": 0.02, "hand_mean": 0.03} for ref in ("mean sequence", "SLERP keyframes",
                                                                        "naive stitching", "ground truth")}
    metrics = _stage(tmp_path).write_metrics(corpus_stage.metrics(build, overall))
    freq = metrics["frequency"]
    assert set(freq) == {"CSL", "DGS", "all"}
    assert freq["DGS"]["test_median_seen"] == 2.0 and freq["DGS"]["test_unseen_pct"] == 50.0  # HAUS 4×, AUTO never
    assert freq["CSL"]["test_rare_pct"] == 100.0 and freq["CSL"]["tokens"] == 5 and freq["CSL"]["types"] == 3
    assert set(metrics["hardness"]) == {"mean", "slerp", "naive"}
    saved = json.loads((tmp_path / "results/corpus/metrics.json").read_text())
    assert saved["frequency"]["all"]["test_tokens"] == 5


def test_frequency_table_is_written_with_a_row_per_language(tmp_path):
    stage = _stage(tmp_path)
    corpus_stage.frequency_table(stage, _build(tmp_path))
    lines = (stage.results / "tables/frequency.md").read_text().splitlines()
    assert any(line.startswith("| DGS |") for line in lines) and any(line.startswith("| all |") for line in lines)
    assert "test_median_seen" in (stage.results / "tables/frequency.csv").read_text()
