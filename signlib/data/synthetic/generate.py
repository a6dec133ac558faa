"""Write the generated corpus to disk in real formats (DESIGN §3).

:func:`generate_corpus` writes a folder that is itself an input corpus of format ``signspark``::

    corpus.yaml            format: signspark, files: clips/*.npz, signers: signers.csv
    signers.csv            clip → signer
    clips/<id>.npz         SignSparK records of continuous sentences (+ hand-observed masks)
    dictionary/<LANG>/<concept>.npz   SignSparK records of isolated citation forms
    lexicon.csv            every sign's phonological parameters and frequency rank, per language
    styles.csv             each signer's style (speed, amplitude, handedness, ...)

so the ``corpus`` stage reads it back through the same readers a real corpus uses. Sentences draw
their concepts with Zipf-like frequencies (:func:`~signlib.data.synthetic.lexicon.frequency_ranks`)
and are signed in reduced, coarticulated in-context forms (:mod:`~signlib.data.synthetic.context`);
the dictionary keeps full citation forms. Everything is deterministic from the seed: the same seed
gives byte-identical files.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import yaml
from tqdm.auto import tqdm

from signlib.data.formats.signspark import write_signspark
from signlib.data.sequence import Segment, Sequence
from signlib.data.synthetic.grammar import SPOKEN, gloss_label, load_vocabulary, make_sentence
from signlib.data.synthetic.lexicon import DEFAULT_ZIPF, SignSpec, build_lexicons, frequency_ranks, zipf_weights
from signlib.data.synthetic.performance import Style, draw_style, perform
from signlib.errors import SignlibError
from signlib.io import csv_text, write_text

LANGUAGES = ("ASL", "BSL", "DGS", "CSL")
#: Concept kinds every lexicon keeps whatever its size: the grammar's templates need them.
_ALWAYS = ("pron", "question", "neg")


@dataclass(frozen=True)
class SynthSpec:
    """Sizes and seed of a generated corpus."""

    signers_per_language: int
    sentences_per_signer: int
    signs_per_language: int          # lexicon size (0 = every concept in the vocabulary)
    languages: tuple[str, ...] = LANGUAGES
    fps: float = 25.0
    zipf_exponent: float = DEFAULT_ZIPF  # concept draws ∝ 1 / rank ** s within each template pool
    seed: int = 0

    def __post_init__(self):
        unknown = [x for x in self.languages if x not in LANGUAGES]
        if unknown:
            raise SignlibError(f"unknown sign language {unknown[0]!r}; the generator knows {', '.join(LANGUAGES)}")
        if self.signers_per_language < 1 or self.sentences_per_signer < 1:
            raise SignlibError("the generated corpus needs at least one signer and one sentence per signer")
        if not self.zipf_exponent >= 0:
            raise SignlibError(f"zipf_exponent={self.zipf_exponent!r} must be >= 0 (0 = uniform concept draws)")


def choose_concepts(n: int, seed: int):
    """The concepts every language signs: all function-critical kinds plus a seeded sample."""
    vocab = load_vocabulary()
    if n <= 0 or n >= len(vocab):
        return list(vocab)
    keep = [c for c in vocab if c.pos in _ALWAYS]
    rest = [c for c in vocab if c.pos not in _ALWAYS]
    picks = np.random.default_rng([seed, 5]).choice(len(rest), max(0, n - len(keep)), replace=False)
    chosen = {c.key for c in keep} | {rest[i].key for i in picks}
    return [c for c in vocab if c.key in chosen]


def _sequence(features, valid, spans, glosses, text, language, clip_id, fps) -> Sequence:
    segs = tuple(Segment(a, b, g) for (a, b), g in zip(spans, glosses))
    return Sequence(features=features, layout="rot6d", fps=fps, valid=valid, segments=segs, text=text,
                    language=language, id=clip_id)


def generate_corpus(out_dir: str | os.PathLike, spec: SynthSpec, progress: bool = True) -> Path:
    """Generate and write the corpus described by ``spec`` under ``out_dir``; return ``out_dir``."""
    out = Path(out_dir)
    concepts = choose_concepts(spec.signs_per_language, spec.seed)
    labels = {lang: {c.key: gloss_label(c, lang) for c in concepts} for lang in spec.languages}
    lexicons = build_lexicons(concepts, labels, spec.languages, spec.seed)
    ranks = {lang: frequency_ranks(concepts, lang, spec.seed) for lang in spec.languages}
    signer_rows, style_rows = [], []
    total = len(spec.languages) * spec.signers_per_language * spec.sentences_per_signer
    bar = tqdm(total=total, desc="generating sentences", disable=not progress, leave=False)
    for li, lang in enumerate(spec.languages):
        lex: dict[str, SignSpec] = lexicons[lang]
        weights = zipf_weights(ranks[lang], spec.zipf_exponent)
        for s in range(spec.signers_per_language):
            signer = f"{lang.lower()}{s:02d}"
            rng = np.random.default_rng([spec.seed, li, s])
            style: Style = draw_style(rng)
            style_rows.append({"signer": signer, "language": lang, **{k: v for k, v in asdict(style).items()}})
            for k in range(spec.sentences_per_signer):
                sentence = make_sentence(rng, lang, concepts, weights)
                signs = [lex[key] for key in sentence.concepts]
                feats, valid, spans = perform(signs, style, rng)
                clip_id = f"{signer}_{k:03d}"
                write_signspark(out / "clips" / f"{clip_id}.npz",
                                _sequence(feats, valid, spans, sentence.glosses, sentence.text, lang, clip_id, spec.fps))
                signer_rows.append({"clip": clip_id, "signer": signer})
                bar.update()
    bar.close()
    # Citation forms: one per sign, by a reference signer of each language (a dictionary informant).
    for li, lang in enumerate(tqdm(spec.languages, desc="dictionary", disable=not progress, leave=False)):
        rng = np.random.default_rng([spec.seed, li, 999])
        informant = Style(speed=1.0, amplitude=1.0, left_dominant=False, offset=(0.0, 0.0, 0.0), head_tilt=0.0,
                          jitter=0.006, missing_rate=0.0, reduction=0.0)
        for c in concepts:
            sign = lexicons[lang][c.key]
            feats, valid, spans = perform([sign], informant, rng, citation=True)
            word = c.words[SPOKEN[lang]][0]
            write_signspark(out / "dictionary" / lang / f"{c.key}.npz",
                            _sequence(feats, valid, spans, [sign.gloss], word, lang, f"{lang.lower()}_{c.key}", spec.fps))
    lexicon_rows = [{"language": lang, **{k: v for k, v in asdict(sign).items() if k != "direction"},
                     "direction": " ".join(f"{v:g}" for v in sign.direction), "frequency_rank": ranks[lang][key]}
                    for lang in spec.languages for key, sign in lexicons[lang].items()]
    write_text(out / "lexicon.csv", csv_text(lexicon_rows))
    write_text(out / "signers.csv", csv_text(signer_rows))
    write_text(out / "styles.csv", csv_text(style_rows))
    write_text(out / "corpus.yaml", yaml.safe_dump({
        "format": "signspark", "files": "clips/*.npz", "fps": spec.fps, "language": "", "signers": "signers.csv",
        "eaf_tier": "", "synthetic": {}}, sort_keys=False, allow_unicode=True))
    return out
