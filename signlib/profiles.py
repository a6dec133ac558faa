"""How big each profile is: every size a stage takes from ``base.profile``, in one table.

- ``smoke``: seconds; what the tests and CI run.
- ``default``: minutes on a 2-core laptop CPU; what ``dvc repro`` builds.
- ``paper``: the paper's scale, for GPUs and real corpora.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    """Sizes a profile sets (see the module docstring)."""

    max_frames: int             # longest clip a stage keeps; longer clips are dropped (and reported)
    max_clips: int              # real corpora: clips per language read from the input (0 = all)
    figure_examples: int        # example clips per language drawn in figures
    corpus_signers: int         # generated corpus: signers per language
    corpus_sentences: int       # generated corpus: sentences per signer
    corpus_signs: int           # generated corpus: signs per language (0 = the whole vocabulary)
    corpus_zipf: float          # generated corpus: Zipf exponent of concept draws (data.synthetic.lexicon)
    fast_steps: int             # training steps of the segmenters in Table 1a
    ablation_steps: int         # training steps (half-size batches) of each variant in the Fig 4a ablation
    signspark_steps: int        # training steps of the SignSparK generator
    generator_ablation_steps: int  # training steps of each generator variant of the ablations stage
    ablation_seeds: int         # seeds 0 .. n-1 each generator variant is trained with
    ablation_step_limit: int    # Fig 4b: sampling step counts above this are left out of the grid
    text2gloss_steps: int       # training steps of the text-to-gloss transformer (retrieval T2P)
    backtranslation_steps: int  # training steps of the pose-to-text model that scores B-T BLEU
    regression_steps: int       # training steps of the regression text-to-pose baseline
    soke_tokenizer_steps: int   # training steps of the SOKE-style decoupled VQ-VAE tokenizer
    soke_steps: int             # training steps of each SOKE-style text-to-token generator (plain, retrieval)
    signllm_steps: int          # training steps of each SignLLM pose decoder (MLSF: split over its languages)
    signllm_prompt_steps: int   # training steps of SignLLM Prompt2LangGloss's prompt-to-gloss model
    realdata_steps: int         # training steps of the SignSparK trained on the 16 real DGS sentences
    render_frames: int          # frames rendered per video of the render stage (0 = the whole clip)


# Generated corpus at each profile (4 languages, 25 fps, sentences of 3-8 signs, ~7 s each):
#   smoke    4 signers × 3 sentences  =   48 sentences, 60 signs per language
#   default 10 signers × 30 sentences = 1200 sentences, every concept (≥ 330 signs per language)
#   paper   40 signers × 100 sentences = 16000 sentences, every concept
# Concepts are drawn ∝ 1 / rank ** corpus_zipf within each sentence-template pool. The exponent is a
# property of the language, not of the corpus size, so every profile uses the same one: s = 2 gives
# token frequencies with a rank-frequency slope near 1 (Zipf's law), and at the default profile the
# median test token's sign occurs 16-18 times in its language's training split (see
# signlib.data.synthetic.lexicon). Bigger corpora simply see more of the long tail.
PROFILES: dict[str, Sizes] = {
    "smoke": Sizes(max_frames=512, max_clips=6, figure_examples=1, corpus_signers=4, corpus_sentences=3,
                   corpus_signs=60, corpus_zipf=2.0, fast_steps=20, ablation_steps=10, signspark_steps=20,
                   generator_ablation_steps=6, ablation_seeds=2, ablation_step_limit=10,
                   text2gloss_steps=20, backtranslation_steps=20, regression_steps=20, soke_tokenizer_steps=20, soke_steps=20,
                   signllm_steps=20, signllm_prompt_steps=20, realdata_steps=10,
                   render_frames=12),
    "default": Sizes(max_frames=512, max_clips=0, figure_examples=2, corpus_signers=10, corpus_sentences=30,
                     corpus_signs=0, corpus_zipf=2.0, fast_steps=500, ablation_steps=300, signspark_steps=1200,
                     generator_ablation_steps=160, ablation_seeds=2, ablation_step_limit=1000,
                     text2gloss_steps=700, backtranslation_steps=600, regression_steps=200, soke_tokenizer_steps=200,
                     soke_steps=200, signllm_steps=120, signllm_prompt_steps=150, realdata_steps=150,
                     render_frames=0),
    "paper": Sizes(max_frames=1024, max_clips=0, figure_examples=4, corpus_signers=40, corpus_sentences=100,
                   corpus_signs=0, corpus_zipf=2.0, fast_steps=20000, ablation_steps=5000, signspark_steps=100000,
                   generator_ablation_steps=20000, ablation_seeds=5, ablation_step_limit=1000,
                   text2gloss_steps=20000, backtranslation_steps=30000, regression_steps=30000, soke_tokenizer_steps=30000,
                   soke_steps=30000, signllm_steps=30000, signllm_prompt_steps=20000, realdata_steps=2000,
                   render_frames=0),
}
