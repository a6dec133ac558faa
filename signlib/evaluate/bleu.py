"""Corpus BLEU-4 of back-translated text, per sign language and over all of them (DESIGN §7).

Scores come from sacreBLEU (Post 2018) so they are comparable with published numbers. Each
language is tokenised the way sacreBLEU tokenises it on its own:

- ``CSL`` (Chinese text) with sacreBLEU's ``zh`` tokenizer: every CJK character and CJK
  punctuation mark is its own token, i.e. Chinese is scored by character. We take ``zh`` rather
  than ``char`` because ``zh`` keeps runs of Latin letters and digits whole (a name such as
  "Peter" or a number inside Chinese text counts as one word, as it does in the other
  languages, where ``char`` would make five single-letter tokens and inflate the matches), and
  because ``zh`` is what sacreBLEU itself picks for Chinese targets, so numbers match other work.
- every other language (English for ASL and BSL, German for DGS) with the standard ``13a``.

The ``all`` row needs both tokenisations inside one corpus score, which no single sacreBLEU
tokenizer does: each sentence is tokenised with its own language's tokenizer first and the
corpus is then scored with ``tokenize="none"`` (which only splits on whitespace). On a single
language this gives exactly sacreBLEU's own number (checked in the tests).
"""

from __future__ import annotations

import math

from signlib.errors import SignlibError
from signlib.text.tokens import check_language

#: sacreBLEU tokenizer per sign language; languages not listed use :data:`DEFAULT_TOKENIZER`.
TOKENIZERS = {"CSL": "zh"}
DEFAULT_TOKENIZER = "13a"


def tokenizer_name(language: str) -> str:
    """The sacreBLEU tokenizer that scores the spoken text of ``language`` (a sign-language code)."""
    return TOKENIZERS.get(check_language(language), DEFAULT_TOKENIZER)


def _bleu(tokenize: str):
    # Imported here, not at module level: sacrebleu pulls in regex tables, and importing signlib
    # must stay cheap (no import-time work).
    from sacrebleu.metrics import BLEU

    # force: pre-tokenised text ends in " ." on purpose; without it sacreBLEU logs a warning to
    # detokenise (it never changes the score).
    return BLEU(tokenize=tokenize, force=tokenize == "none")


def _check(hypotheses, references, languages) -> tuple[list[str], list[str], list[str]]:
    lists = {"hypotheses": hypotheses, "references": references, "languages": languages}
    for name, value in lists.items():
        if isinstance(value, str):
            raise SignlibError(f"bleu: {name} must be a list of strings (one per sentence), not a string")
    hyps, refs, langs = (list(v) for v in lists.values())
    if not hyps:
        raise SignlibError("bleu: no sentences to score (empty hypotheses)")
    if not len(hyps) == len(refs) == len(langs):
        raise SignlibError(f"bleu: {len(hyps)} hypotheses, {len(refs)} references and {len(langs)} "
                           f"languages; give one of each per sentence")
    for name, values in (("hypotheses", hyps), ("references", refs)):
        bad = next((k for k, v in enumerate(values) if not isinstance(v, str)), None)
        if bad is not None:
            raise SignlibError(f"bleu: {name}[{bad}] is {type(values[bad]).__name__}, not a string")
    for language in set(langs):
        check_language(language)
    return hyps, refs, langs


def corpus_bleu(hypotheses: list[str], references: list[str], tokenize: str) -> float:
    """sacreBLEU corpus BLEU-4 (0–100) of ``hypotheses`` against one reference each."""
    return float(_bleu(tokenize).corpus_score(list(hypotheses), [list(references)]).score)


def bleu_rows(hypotheses: list[str], references: list[str], languages: list[str]) -> list[dict]:
    """Corpus BLEU-4 per language (sorted) and over all sentences (``"all"``, last).

    Args:
        hypotheses: ``N`` back-translated sentences.
        references: ``N`` reference texts, one per hypothesis.
        languages: ``N`` sign-language codes (``ASL``, ``BSL``, ``DGS``, ``CSL``); they choose the
            tokenizer (see the module docstring).
    Returns:
        rows ``{"language", "sentences", "bleu4"}``, ``bleu4`` in 0–100.
    """
    hyps, refs, langs = _check(hypotheses, references, languages)
    rows = []
    for language in sorted(set(langs)):
        sel = [k for k, lang in enumerate(langs) if lang == language]
        score = corpus_bleu([hyps[k] for k in sel], [refs[k] for k in sel], tokenizer_name(language))
        rows.append({"language": language, "sentences": len(sel), "bleu4": score})
    # One tokenizer object per language, applied sentence by sentence; "none" then only splits on spaces.
    tokenizers = {language: _bleu(tokenizer_name(language)).tokenizer for language in set(langs)}
    hyp_tok = [tokenizers[lang](h) for h, lang in zip(hyps, langs)]
    ref_tok = [tokenizers[lang](r) for r, lang in zip(refs, langs)]
    rows.append({"language": "all", "sentences": len(hyps), "bleu4": corpus_bleu(hyp_tok, ref_tok, "none")})
    return rows


def relative_drop(score: float, upper: float) -> float:
    """Percent of the ground-truth upper bound lost: ``100 · (upper − score) / upper``.

    ``upper`` is BLEU of back-translating the true poses; ``score`` that of generated ones. The
    drop is ``nan`` when ``upper`` is 0 (nothing to lose; a ratio would divide by zero), and
    negative when ``score`` beats the upper bound.
    """
    score, upper = float(score), float(upper)
    if upper == 0 or math.isnan(upper):
        return math.nan
    return 100.0 * (upper - score) / upper
