"""``params.yaml`` → frozen dataclasses.

Every stage reads ``base`` and its own section. A key that is unknown, missing or of the wrong
type is a one-line :class:`~signlib.errors.SignlibError` naming the section and the key, so a
typo in ``params.yaml`` (or in ``dvc exp run -S``) fails before any work starts.

Sizes live in one place, :data:`PROFILES`, picked by ``base.profile``:

- ``smoke``: seconds; what the tests and CI run.
- ``default``: minutes on a 2-core laptop CPU; what ``dvc repro`` builds.
- ``paper``: the paper's scale, for GPUs and real corpora.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from signlib.errors import SignlibError, file_error


@dataclass(frozen=True)
class Sizes:
    """Sizes a profile sets (see the module docstring)."""

    max_frames: int             # longest clip a stage keeps; longer clips are dropped (and reported)
    max_clips: int              # real corpora: clips per language read from the input (0 = all)
    figure_examples: int        # example clips per language drawn in figures
    corpus_signers: int         # generated corpus: signers per language
    corpus_sentences: int       # generated corpus: sentences per signer
    corpus_signs: int           # generated corpus: signs per language (0 = the whole vocabulary)
    fast_steps: int             # training steps of the segmenters in Table 1a
    ablation_steps: int         # training steps (half-size batches) of each variant in the Fig 4a ablation
    signspark_steps: int        # training steps of the SignSparK generator
    text2gloss_steps: int       # training steps of the text-to-gloss transformer (retrieval T2P)
    backtranslation_steps: int  # training steps of the pose-to-text model that scores B-T BLEU
    regression_steps: int       # training steps of the regression text-to-pose baseline
    realdata_steps: int         # training steps of the SignSparK trained on the 16 real DGS sentences


# Generated corpus at each profile (4 languages, 25 fps, sentences of 3-8 signs, ~7 s each):
#   smoke    4 signers × 3 sentences  =   48 sentences, 60 signs per language
#   default 10 signers × 30 sentences = 1200 sentences, every concept (≥ 330 signs per language)
#   paper   40 signers × 100 sentences = 16000 sentences, every concept
PROFILES: dict[str, Sizes] = {
    "smoke": Sizes(max_frames=512, max_clips=6, figure_examples=1, corpus_signers=4, corpus_sentences=3,
                   corpus_signs=60, fast_steps=20, ablation_steps=10, signspark_steps=20, text2gloss_steps=20,
                   backtranslation_steps=20, regression_steps=20, realdata_steps=10),
    "default": Sizes(max_frames=512, max_clips=0, figure_examples=2, corpus_signers=10, corpus_sentences=30,
                     corpus_signs=0, fast_steps=500, ablation_steps=300, signspark_steps=1200,
                     text2gloss_steps=700, backtranslation_steps=600, regression_steps=200, realdata_steps=300),
    "paper": Sizes(max_frames=1024, max_clips=0, figure_examples=4, corpus_signers=40, corpus_sentences=100,
                   corpus_signs=0, fast_steps=20000, ablation_steps=5000, signspark_steps=100000,
                   text2gloss_steps=20000, backtranslation_steps=30000, regression_steps=30000, realdata_steps=2000),
}


@dataclass(frozen=True)
class BaseConfig:
    seed: int          # one seed for every stage; the same seed gives the same numbers
    profile: str       # smoke | default | paper: picks :data:`PROFILES`
    device: str        # cpu | cuda | auto (cuda when available)
    data_dir: str      # the input corpus folder (tracked by data.dvc); point it at a real corpus
    build_dir: str     # curated datasets and other large intermediates
    results_dir: str   # tables, figures, metrics, executed notebooks: results/<stage>/
    models_dir: str    # checkpoints: models/<stage>/

    def __post_init__(self):
        if self.profile not in PROFILES:
            raise SignlibError(f"params: base.profile: {self.profile!r} is not one of {', '.join(PROFILES)}")
        if self.device not in ("cpu", "cuda", "auto"):
            raise SignlibError(f"params: base.device: {self.device!r} is not one of cpu, cuda, auto")

    @property
    def sizes(self) -> Sizes:
        return PROFILES[self.profile]


@dataclass(frozen=True)
class CorpusConfig:
    layout: str                  # layout of the curated features: rot6d | rot6d_spine3 | xyz_mediapipe | ...
    fill_gap_frames: int         # interpolate runs of missing joints up to this many frames; longer stay masked
    val_signer_fraction: float   # share of signers held out for validation
    test_signer_fraction: float  # share of signers held out for testing (unseen signers)

    def __post_init__(self):
        if self.fill_gap_frames < 0:
            raise SignlibError("params: corpus.fill_gap_frames: must be >= 0")
        for key in ("val_signer_fraction", "test_signer_fraction"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise SignlibError(f"params: corpus.{key}: must be in [0, 1)")
        if self.val_signer_fraction + self.test_signer_fraction >= 1.0:
            raise SignlibError("params: corpus: val and test signer fractions leave no training signers")


@dataclass(frozen=True)
class FastStageConfig:
    d_model: int                 # FAST transformer width
    layers: int                  # transformer layers
    heads: int                   # attention heads
    ff: int                      # feed-forward width
    dropout: float
    ctc_weight: float            # weight of the CTC loss next to the frame cross-entropy
    crop_frames: int             # training windows (frames); clips are cropped at random
    dictionary_share: float      # share of training windows drawn from isolated citation forms
    batch_size: int
    lr: float
    weight_decay: float
    b_threshold: float           # decoding: p(B) above this marks a sign onset
    inside_threshold: float      # decoding: p(I) + p(B) above this is inside a sign
    convention: str              # decoding: signspark (B inside a run does not split) | b_splits
    min_segment_frames: int      # decoding: shorter predicted segments are dropped
    boundary_tolerance: int      # frames of slack for boundary F1

    def __post_init__(self):
        if self.convention not in ("signspark", "b_splits"):
            raise SignlibError(f"params: fast.convention: {self.convention!r} is not one of signspark, b_splits")


@dataclass(frozen=True)
class KeyframesStageConfig:
    policy: str                  # keyframe policy the generators train on: onset_mid_offset | random | masked_segments
    mask_p: float                # masked_segments: probability of dropping a sign's keyframes
    agreement_tolerance: int     # frames: a predicted keyframe this close to a true one agrees


@dataclass(frozen=True)
class SignSparKStageConfig:
    channels: list               # UNet width per level (each level halves the frame rate)
    blocks: int                  # residual blocks per UNet level
    heads: int                   # bottleneck attention heads
    cond_dim: int                # condition vector (flow time + pooled text)
    text_encoder: str            # bytes (learned, default) | pretrained (M-CLIP, needs local weights)
    pretrained_text_path: str    # folder of the pretrained sentence encoder (text_encoder: pretrained)
    text_d_model: int            # text encoder width
    text_layers: int             # text encoder transformer layers
    language_token: bool         # prepend <ASL>/<BSL>/<DGS>/<CSL> to the text (ablation switch)
    keyframe_source: str         # mined (FAST, the keyframes stage) | true (from the corpus construction)
    batch_size: int
    lr: float                    # peak; linear warmup (5% of steps), cosine decay
    weight_decay: float
    ema_decay: float
    text_drop: float             # condition dropout for classifier-free guidance, text ...
    key_drop: float              # ... and keyframes, drawn independently
    cfm_weight: float            # loss weights: L_CFM : L_recon : L_vel (: L_acc)
    recon_weight: float
    velocity_weight: float
    acceleration_weight: float
    length_weight: float         # the length head's log-length regression
    sampler_steps: int           # Euler/Heun steps at inference (the paper: fewer than ten)
    solver: str                  # euler | heun
    text_scale: float            # guidance scales; 1 = plain conditional
    key_scale: float

    def __post_init__(self):
        if not (isinstance(self.channels, list) and self.channels and all(isinstance(c, int) and c >= 8
                                                                           for c in self.channels)):
            raise SignlibError(f"params: signspark.channels: expected a list of widths >= 8, got {self.channels!r}")
        if self.keyframe_source not in ("mined", "true"):
            raise SignlibError(f"params: signspark.keyframe_source: {self.keyframe_source!r} is not one of mined, true")
        for key in ("text_drop", "key_drop"):
            if not 0.0 <= getattr(self, key) < 1.0:
                raise SignlibError(f"params: signspark.{key}: must be in [0, 1)")


@dataclass(frozen=True)
class EvaluateStageConfig:
    batch_size: int              # test sequences per generator call
    workers: int                 # processes that score DTW metrics in parallel (numpy, one core each)
    bt_d_model: int              # back-translation (pose → text) transformer width
    bt_layers: int               # its encoder layers and decoder layers (each)
    bt_downsample: int           # frames per encoder position (strided Conv1d front end)
    bt_lr: float                 # peak learning rate; linear warmup (5% of steps), cosine decay
    regression_d_model: int      # regression text-to-pose baseline width
    regression_layers: int       # its decoder layers
    regression_noise: float      # std of the Gaussian noise on its teacher-forced input frames (normalised units)
    regression_lr: float
    speed_bins: int              # normalised-time bins of the regression-to-the-mean figure
    realdata: bool               # run the real-data check when ../shared/realdata exists

    def __post_init__(self):
        for key in ("batch_size", "workers", "bt_d_model", "bt_layers", "bt_downsample", "regression_d_model",
                    "regression_layers"):
            if getattr(self, key) < 1:
                raise SignlibError(f"params: evaluate.{key}: must be >= 1, got {getattr(self, key)}")
        if self.speed_bins < 2:
            raise SignlibError(f"params: evaluate.speed_bins: must be >= 2, got {self.speed_bins}")
        if self.regression_noise < 0:
            raise SignlibError(f"params: evaluate.regression_noise: must be >= 0, got {self.regression_noise}")


#: section name → dataclass. Later stages add their sections here.
SECTIONS: dict[str, type] = {"base": BaseConfig, "corpus": CorpusConfig, "fast": FastStageConfig,
                             "keyframes": KeyframesStageConfig, "signspark": SignSparKStageConfig,
                             "evaluate": EvaluateStageConfig}


def _check_type(section: str, key: str, value, annotation) -> object:
    expected = {"int": int, "float": (int, float), "str": str, "bool": bool}.get(
        annotation if isinstance(annotation, str) else getattr(annotation, "__name__", ""))
    if expected is None:
        return value
    # bool is an int in Python; a YAML `true` where a number belongs is still a mistake.
    if isinstance(value, bool) and expected is not bool:
        ok = False
    else:
        ok = isinstance(value, expected)
    if not ok:
        raise SignlibError(f"params: {section}.{key}: expected {annotation}, got {value!r}")
    return float(value) if annotation == "float" else value


def parse_section(section: str, raw, cls: type | None = None):
    """Build the dataclass of ``section`` from a mapping; unknown or missing keys are errors."""
    cls = cls or SECTIONS.get(section)
    if cls is None:
        raise SignlibError(f"params: unknown section {section!r}; known sections: {', '.join(SECTIONS)}")
    if not isinstance(raw, dict):
        raise SignlibError(f"params: section {section!r} must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise SignlibError(f"params: unknown key {section}.{key}; known keys: {', '.join(fields)}")
    for key in fields:
        if key not in raw:
            raise SignlibError(f"params: missing key {section}.{key}")
    values = {k: _check_type(section, k, raw[k], fields[k].type) for k in fields}
    return cls(**values)


def read_yaml_mapping(path: str | os.PathLike, missing: str = "file not found") -> dict:
    """A YAML file that must hold a mapping; errors name the file (``missing`` says what to do
    when it does not exist)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, missing) from None
    except yaml.YAMLError as err:
        raise file_error(path, f"not valid YAML ({type(err).__name__})") from None
    if not isinstance(raw, dict):
        raise file_error(path, "must hold a mapping")
    return raw


def read_params(path: str | os.PathLike = "params.yaml") -> dict:
    """The raw ``params.yaml`` mapping."""
    return read_yaml_mapping(path, "params file not found")


@dataclass(frozen=True)
class Params:
    """All sections of ``params.yaml``, each as its dataclass."""

    base: BaseConfig
    corpus: CorpusConfig
    fast: FastStageConfig
    keyframes: KeyframesStageConfig
    signspark: SignSparKStageConfig
    evaluate: EvaluateStageConfig

    @property
    def sizes(self) -> Sizes:
        return self.base.sizes


def load_params(path: str | os.PathLike = "params.yaml", **overrides) -> Params:
    """Load and check every section of ``params.yaml``.

    ``overrides`` map ``"section.key"``-style names written with a double underscore
    (``base__profile="smoke"``) to values, for tests and notebooks that tweak one value.
    """
    raw = read_params(path)
    for name, value in overrides.items():
        section, _, key = name.partition("__")
        raw.setdefault(section, {})[key] = value
    for section in raw:
        if section not in SECTIONS:
            raise SignlibError(f"params: unknown section {section!r}; known sections: {', '.join(SECTIONS)}")
    hints = typing.get_type_hints(Params)
    missing = [s for s in hints if s not in raw]
    if missing:
        raise SignlibError(f"params: missing section {missing[0]!r}")
    return Params(**{s: parse_section(s, raw[s]) for s in hints})
