"""SignLLM's two multilingual modes as Table 2 text-to-pose baselines (Fang et al. 2024, "SignLLM:
Sign Language Production Large Language Models").

Only the paper's abstract was available, so everything below is a re-implementation from its
description, not from the authors' code; each choice the abstract leaves open is listed here.

The abstract describes two modes and two training devices:

- **MLSF** (Multi-Language Switching Framework): one small encoder-decoder per sign language, the
  language choosing which one runs. Here: one :class:`~signlib.baselines.regression.ProgressiveTransformer`
  per language present in the training split, each trained only on its language's clips for
  ``signllm_steps // n_languages`` steps (at least 1), so the updates add up to those of one shared
  model and the budget matches the regression baseline's. :func:`generate_mlsf` sends each text to
  its language's model; a language without a model is an error naming it.
- **Prompt2LangGloss**: one shared model from a question-style prompt to language-tagged glosses,
  then to pose. Here: (a) the project's text-to-gloss transformer
  (:class:`~signlib.generate.text2gloss.Text2Gloss`) maps :func:`prompt` (``"How is this signed in
  German Sign Language? <text>"``, the prompt naming the language) to ``["<DGS>", G1, G2, ...]``,
  the language tag being the first gloss; (b) one shared ProgressiveTransformer reads the tagged
  gloss string ``"<DGS> G1 G2 ..."`` (:func:`pose_text`) and regresses the pose. It is trained on the
  training split's gold glosses and reads the prompt model's predicted glosses at test time. The
  byte tokenizer (:func:`signlib.text.tokens.encode_texts`, as :class:`Text2Gloss` calls it) always
  puts a sign-language token in front, so the prompt model also sees the language as a token, not
  only as words of the prompt; likewise the pose decoder's text encoder keeps its language token.
  A predicted tag that disagrees with the requested language does not change the language the pose
  decoder is given (the requested one); ``meta["tag_ok"]`` records whether they agreed.
- **Reinforcement-learning-based loss** (:mod:`signlib.baselines.signllm_training`): the reward of a
  training item is minus its teacher-forced pose error; items worse than a running baseline of the
  reward get a larger weight in the loss, better ones a smaller (a REINFORCE-style advantage used
  as a per-item loss weight, not a policy gradient: the decoder is deterministic).
- **Priority learning channel**: training items are resampled by their latest error (prioritised
  replay, with importance weights that undo part of the bias).

The RL loss and the priority channel train every pose decoder (MLSF's and Prompt2LangGloss's); the
prompt-to-gloss model is trained with its own cross-entropy (:func:`signlib.generate.text2gloss.make_loss`).

Model folders: MLSF is ``<folder>/model.json`` (kind ``signllm_mlsf``, listing the languages) with
one regression-kind folder per language, ``<folder>/<LANG>/``; Prompt2LangGloss is
``<folder>/model.json`` (kind ``signllm_p2lg``) with ``<folder>/prompt/`` (kind ``text2gloss``) and
``<folder>/pose/`` (kind ``regression``). Both generators return sequences as
:func:`~signlib.baselines.regression.generate_regression` makes them (ids ``generated_{i}`` in input order).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from signlib.baselines.configs import SignLLMConfig
from signlib.baselines.regression import KIND as POSE_KIND
from signlib.baselines.regression import ProgressiveTransformer, generate_regression, load_regression
from signlib.checkpoint import bad_card, card_field, read_card, save_card, save_model
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.text2gloss import Text2Gloss, load_text2gloss, translate
from signlib.text.glosses import GlossVocab
from signlib.text.counts import count
from signlib.text.tokens import SIGN_LANGUAGES, check_language, check_text, text_requests

MLSF_KIND, P2LG_KIND = "signllm_mlsf", "signllm_p2lg"
PROMPT_DIR, POSE_DIR = "prompt", "pose"
#: The names the question-style prompt uses for each sign language.
LANGUAGE_NAMES = {"ASL": "American Sign Language", "BSL": "British Sign Language",
                  "DGS": "German Sign Language", "CSL": "Chinese Sign Language"}
PROMPT_TEMPLATE = "How is this signed in {name}? {text}"


def language_tag(language: str) -> str:
    """The gloss that tags a gloss sequence with its sign language, e.g. ``"<DGS>"``."""
    return f"<{check_language(language)}>"


#: tag → language code, for every known sign language.
TAGS = {language_tag(lang): lang for lang in SIGN_LANGUAGES}


def prompt(text: str, language: str) -> str:
    """The question-style prompt of Prompt2LangGloss, naming the sign language in words."""
    check_text(text, "SignLLM prompt")
    return PROMPT_TEMPLATE.format(name=LANGUAGE_NAMES[check_language(language)], text=text.strip())


def tagged_glosses(glosses, language: str) -> list[str]:
    """The prompt model's target: the language tag, then the glosses."""
    return [language_tag(language), *glosses]


def split_tag(glosses) -> tuple[str | None, list[str]]:
    """``(language of the leading tag or None, the glosses without any tag)``: the inverse of
    :func:`tagged_glosses`. Tags are not signs, so a tag anywhere else is dropped too."""
    glosses = list(glosses)
    language = TAGS.get(glosses[0]) if glosses else None
    return language, [g for g in glosses if g not in TAGS]


def pose_text(glosses, language: str) -> str:
    """What Prompt2LangGloss's pose decoder reads: ``"<DGS> G1 G2 ..."``."""
    return " ".join(tagged_glosses(glosses, language))


@dataclass(frozen=True)
class MLSF:
    """Multi-Language Switching Framework: one pose decoder per sign language."""

    models: dict[str, ProgressiveTransformer]

    @property
    def languages(self) -> list[str]:
        return sorted(self.models)


@dataclass(frozen=True)
class Prompt2LangGloss:
    """Prompt → ``<LANG>`` + glosses (``prompt``, ``vocab``), then tagged glosses → pose (``pose``)."""

    prompt: Text2Gloss
    vocab: GlossVocab
    pose: ProgressiveTransformer


def save_pose_folder(folder: str | os.PathLike, model: ProgressiveTransformer, **extra) -> None:
    """Write a trained pose decoder as a regression-kind model folder (weights and card)."""
    save_model(folder, model, POSE_KIND, model.config.to_dict(), **extra)


def save_mlsf_card(folder: str | os.PathLike, config: SignLLMConfig, languages, **extra) -> None:
    """The MLSF index card, beside the per-language folders ``<folder>/<LANG>/``."""
    save_card(folder, MLSF_KIND, config.to_dict(), languages=sorted(check_language(x) for x in languages), **extra)


def save_p2lg_card(folder: str | os.PathLike, config: SignLLMConfig, **extra) -> None:
    """The Prompt2LangGloss card, beside ``<folder>/prompt/`` and ``<folder>/pose/``."""
    save_card(folder, P2LG_KIND, config.to_dict(), prompt_template=PROMPT_TEMPLATE,
              language_names=LANGUAGE_NAMES, **extra)


def load_mlsf(folder: str | os.PathLike) -> MLSF:
    """Every language's pose decoder (eval mode, CPU) of an MLSF folder."""
    card = read_card(folder, MLSF_KIND)
    languages = card_field(card, folder, "languages", list)
    if not languages or any(not isinstance(x, str) or x not in SIGN_LANGUAGES for x in languages):
        raise bad_card(folder, f"field 'languages' must list sign languages ({', '.join(SIGN_LANGUAGES)}), "
                               f"got {languages!r:.60}")
    return MLSF({lang: load_regression(Path(folder) / lang) for lang in languages})


def load_p2lg(folder: str | os.PathLike) -> Prompt2LangGloss:
    """The prompt-to-gloss model, its vocabulary and the pose decoder (eval mode, CPU)."""
    read_card(folder, P2LG_KIND)
    model, vocab = load_text2gloss(Path(folder) / PROMPT_DIR)
    return Prompt2LangGloss(model, vocab, load_regression(Path(folder) / POSE_DIR))


def generate_mlsf(mlsf: MLSF, texts, languages, batch_size: int = 64, progress: bool = False) -> list[Sequence]:
    """One sequence per text from its language's decoder (greedy, as :func:`generate_regression`);
    ``meta["model"]`` names the decoder that ran."""
    texts, languages = text_requests("generate_mlsf", texts, languages)
    batch_size = count(batch_size, "generate_mlsf: batch_size")
    missing = sorted(set(languages) - set(mlsf.models))
    if missing:
        raise SignlibError(f"generate_mlsf: no model for sign language {', '.join(missing)}; "
                           f"this MLSF has {', '.join(mlsf.languages)}")
    out: list[Sequence | None] = [None] * len(texts)
    for lang in mlsf.languages:
        rows = [i for i, x in enumerate(languages) if x == lang]
        if not rows:
            continue
        seqs = generate_regression(mlsf.models[lang], [texts[i] for i in rows], [lang] * len(rows),
                                   batch_size=batch_size, progress=progress)
        for i, seq in zip(rows, seqs):
            out[i] = dataclasses.replace(seq, id=f"generated_{i}", meta={**seq.meta, "model": lang})
    return out


def generate_p2lg(p2lg: Prompt2LangGloss, texts, languages, batch_size: int = 64,
                  progress: bool = False) -> list[Sequence]:
    """Prompt → tagged glosses (greedy :func:`translate`) → pose (greedy :func:`generate_regression`).

    ``meta``: ``glosses`` (the prompt model's output, tag included), ``predicted_language`` (of
    its leading tag, None without one), ``tag_ok`` (it is the requested language) and
    ``pose_text`` (what the pose decoder read: the requested language's tag and the predicted glosses).
    """
    texts, languages = text_requests("generate_p2lg", texts, languages)
    batch_size = count(batch_size, "generate_p2lg: batch_size")
    glosses = translate(p2lg.prompt, p2lg.vocab, [prompt(t, x) for t, x in zip(texts, languages)], languages,
                        batch_size=batch_size)
    inputs, tags = [], []
    for lang, predicted in zip(languages, glosses):
        tag, signs = split_tag(predicted)
        tags.append(tag)
        inputs.append(pose_text(signs, lang))  # the requested language, whatever the tag said
    seqs = generate_regression(p2lg.pose, inputs, languages, batch_size=batch_size, progress=progress)
    return [dataclasses.replace(seq, text=text, meta={**seq.meta, "glosses": g, "predicted_language": tag,
                                                      "tag_ok": tag == lang, "pose_text": pt})
            for seq, text, lang, g, tag, pt in zip(seqs, texts, languages, glosses, tags, inputs)]
