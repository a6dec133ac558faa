"""The text-to-pose baselines of the other two seed papers, as evaluation loads and judges them.

Table 2 measures SignSparK against a SOKE-style tokenised generator (with and without retrieved
dictionary signs; trained by ``train_soke``) and SignLLM's two modes, MLSF and Prompt2LangGloss
(trained by ``train_signllm``). This module turns their model folders into Table 2 systems
(:func:`signlib.evaluate.systems.text_system`), names them, states the paper's two claims about
them, and reads the tokenizer's reconstruction errors from its card.
"""

from __future__ import annotations

import functools

from signlib.baselines import signllm, soke
from signlib.checkpoint import read_card
from signlib.evaluate import systems as sy
from signlib.evaluate.claims import claim_row, pose_metrics
from signlib.stages.paths import Paths

SOKE, SOKE_R = "SOKE-style", "SOKE-style + retrieval"
MLSF, P2LG = "SignLLM MLSF", "SignLLM Prompt2LangGloss"
#: Folder names under ``models/evaluate`` of every baseline this module loads.
FOLDERS = {SOKE: "soke", SOKE_R: "soke_retrieval", MLSF: "signllm_mlsf", P2LG: "signllm_p2lg"}


def load_systems(paths: Paths, translate, citations: dict | None, batch_size: int = 64) -> dict:
    """``{name: system}`` of every baseline whose folder exists (the retrieval variant needs the
    isolated-sign dictionary, ``citations``, and the text-to-gloss ``translate`` callable)."""
    out, tokenizer = {}, paths.model("evaluate", "soke_tokenizer")
    for name, retrieval in ((SOKE, False), (SOKE_R, True)):
        folder = paths.model("evaluate", FOLDERS[name])
        if not (folder / "model.json").exists() or (retrieval and citations is None):
            print(f"{name}: no trained model at {folder} (or no isolated-sign dictionary): left out")
            continue
        model = soke.load_soke(tokenizer, folder)
        out[name] = sy.text_system(functools.partial(
            soke.generate_soke, model, translate=translate if retrieval else None,
            citations=citations if retrieval else None, batch_size=batch_size))
    for name, load, generate in ((MLSF, signllm.load_mlsf, signllm.generate_mlsf),
                                 (P2LG, signllm.load_p2lg, signllm.generate_p2lg)):
        folder = paths.model("evaluate", FOLDERS[name])
        if not folder.exists():
            print(f"{name}: no trained model at {folder}: left out")
            continue
        out[name] = sy.text_system(functools.partial(generate, load(folder), batch_size=batch_size))
    return out


def tokenizer_rows(paths: Paths) -> list[dict]:
    """Per part: codebook size, codes used and the validation reconstruction error, from the
    tokenizer's card (``[]`` when it was not trained)."""
    folder = paths.model("evaluate", "soke_tokenizer")
    if not (folder / "model.json").exists():
        return []
    return soke.tokenizer_report(read_card(folder, soke.TOKENIZER_KIND), folder)


def claims(rows: dict[str, dict], t2p: str, sr_t2p: str, others: tuple[str, ...]) -> list[dict]:
    """The paper's claims about these baselines, on Table 2's all-language rows: SignSparK's
    retrieval T2P beats SOKE's retrieval variant; gloss-free SignSparK beats every T2P baseline
    (one row per baseline, so the table shows which it beats)."""
    metrics, out = pose_metrics(procrustes=True), []
    if sr_t2p in rows and SOKE_R in rows:
        out.append(claim_row("SignSparK SR-T2P beats SOKE-style retrieval", "2", sr_t2p, SOKE_R, rows, metrics))
    each = [claim_row(f"Gloss-free SignSparK T2P beats {name}", "2", t2p, name, rows, metrics)
            for name in (SOKE, SOKE_R, MLSF, P2LG) if name in rows and t2p in rows]
    beaten = [n for n in (*others, SOKE, SOKE_R, MLSF, P2LG) if n in rows]
    if t2p in rows and beaten:
        lost = [n for n in beaten if not claim_row("", "2", t2p, n, rows, metrics)["holds"] == "yes"]
        out.append({"claim": "Gloss-free SignSparK T2P beats every T2P baseline", "table": "2",
                    "holds": "no" if lost else "yes",
                    "evidence": f"{t2p} vs {len(beaten)} baselines: " + (f"loses on some metric to {', '.join(lost)}"
                                                                          if lost else "wins on every metric against all")})
    return out + each
