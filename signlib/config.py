"""``params.yaml`` → frozen dataclasses, one per section, each nesting its models' own configs.

Every stage reads ``base`` and its own section. A section is a dataclass whose fields are either
plain values (stage settings) or the config dataclass of a model, defined once beside that model
(``signspark.model`` is :class:`~signlib.generate.model.SignSparKConfig`, ``signspark.sampler`` is
:class:`~signlib.generate.sampling.SamplerConfig`, every ``*.train`` is
:class:`~signlib.train.OptimConfig`, ...). :func:`parse` builds them recursively. An unknown key, a
missing key, a wrong type or an invalid value (an unknown policy, solver or encoder name, a
non-positive size) is a one-line :class:`~signlib.errors.SignlibError` naming the key's full path,
so a typo in ``params.yaml`` (or in ``dvc exp run -S``) fails before any work starts. Fields the
data decides (a model's layout, frame rate, length limit; :func:`signlib.validate.from_data`) are
not ``params.yaml`` keys: the stage sets them from the corpus.

Sizes live in one place, :data:`signlib.profiles.PROFILES`, picked by ``base.profile``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import typing
from dataclasses import dataclass

from signlib import validate
from signlib.backtranslation.configs import BackTranslationConfig
from signlib.baselines.configs import RegressionConfig, SignLLMConfig, SokeConfig
from signlib.errors import SignlibError
from signlib.generate.configs import (BatchConfig, FlowLossConfig, GuidanceSearchConfig, SamplerConfig, SignSparKConfig,
                                      Text2GlossConfig)
from signlib.io import read_yaml_mapping
from signlib.keyframes import POLICIES
from signlib.segment.configs import BiLSTMConfig, FASTConfig
from signlib.segment.decode import DecodeConfig
from signlib.optim import OptimConfig
from signlib.profiles import PROFILES, Sizes


@dataclass(frozen=True)
class BaseConfig:
    """``base``: what every stage reads."""

    seed: int          # one seed for every stage; the same seed gives the same numbers
    profile: str       # smoke | default | paper: picks :data:`PROFILES`
    device: str        # cpu | cuda | auto (cuda when available)
    data_dir: str      # the input corpus folder (tracked by data.dvc); point it at a real corpus
    build_dir: str     # curated datasets and other large intermediates
    results_dir: str   # tables, figures, metrics, executed notebooks: results/<stage>/
    models_dir: str    # checkpoints: models/<stage>/
    threads: int       # CPU threads of every stage: results are bit-identical only at one count

    def __post_init__(self):
        validate.integers(self, ("seed",), low=0)
        validate.integers(self, ("threads",), low=1)
        validate.choice(self, "profile", PROFILES)
        validate.choice(self, "device", ("cpu", "cuda", "auto"))

    @property
    def sizes(self) -> Sizes:
        return PROFILES[self.profile]


@dataclass(frozen=True)
class CorpusConfig:
    """``corpus``: curation and splits (the input's own layout is kept)."""

    fill_gap_frames: int         # interpolate runs of missing joints up to this many frames; longer stay masked
    val_signer_fraction: float   # share of signers held out for validation
    test_signer_fraction: float  # share of signers held out for testing (unseen signers)

    def __post_init__(self):
        validate.integers(self, ("fill_gap_frames",), low=0)
        validate.numbers(self, ("val_signer_fraction", "test_signer_fraction"), 0.0, 1.0, high_open=True)
        validate.require(self, "test_signer_fraction", self.val_signer_fraction + self.test_signer_fraction < 1.0,
                         "leaves no training signers (val + test fractions must be below 1)")


@dataclass(frozen=True)
class FastConfig:
    """``fast``: the segmenters of Table 1a and Fig 4a, their training windows and decoding."""

    model: FASTConfig            # FAST (the ablation variants switch parts of it off)
    bilstm: BiLSTMConfig         # the BiLSTM tagger baseline
    train: OptimConfig           # both; the ablation variants train with half the batch
    ctc_weight: float            # FAST's loss: frame cross-entropy + ctc_weight × CTC
    crop_frames: int             # training windows (frames); clips are cropped at random
    dictionary_share: float      # share of training windows drawn from isolated citation forms
    decode: DecodeConfig         # probabilities → segments
    boundary_tolerances_s: tuple[float, ...]  # seconds of slack for boundary P/R/F1; Table 1a uses the first

    def __post_init__(self):
        validate.numbers(self, ("ctc_weight",))
        validate.integers(self, ("crop_frames",), low=8)
        validate.numbers(self, ("dictionary_share",), 0.0, 1.0, high_open=True)
        tolerances = self.boundary_tolerances_s
        if isinstance(tolerances, list):
            object.__setattr__(self, "boundary_tolerances_s", tuple(tolerances))
        validate.require(self, "boundary_tolerances_s", isinstance(tolerances, (list, tuple)) and len(tolerances) > 0
                         and all(isinstance(t, (int, float)) and not isinstance(t, bool) and 0 <= t <= 10
                                 for t in tolerances), "must be a non-empty list of seconds in [0, 10]")


@dataclass(frozen=True)
class KeyframesConfig:
    """``keyframes``: which keyframes the generator trains on, and how agreement is counted."""

    policy: str                  # the generator's training keyframes: onset_mid_offset | random | masked_segments
    mask_p: float                # masked_segments: probability of dropping a sign's keyframes
    agreement_tolerance: int     # frames: a mined keyframe this close to a true one agrees

    def __post_init__(self):
        validate.choice(self, "policy", POLICIES)
        validate.numbers(self, ("mask_p",), 0.0, 1.0, high_open=True)
        validate.integers(self, ("agreement_tolerance",), low=0)


@dataclass(frozen=True)
class Text2GlossSection:
    """``signspark.text2gloss``: the text-to-gloss model of retrieval text-to-pose."""

    model: Text2GlossConfig
    train: OptimConfig


@dataclass(frozen=True)
class SignSparKSection:
    """``signspark``: the generator, its objective, batches, sampler and training."""

    model: SignSparKConfig       # architecture (text encoder, UNet); layout, fps, length from the corpus
    loss: FlowLossConfig         # L_CFM : L_recon : L_vel (: L_acc) and the length head
    data: BatchConfig            # condition dropout for guidance, length buckets
    sampler: SamplerConfig       # Euler/Heun steps and guidance scales at inference
    train: OptimConfig
    keyframe_source: str         # mined (FAST, the keyframes stage) | true (from the corpus construction)
    text2gloss: Text2GlossSection

    def __post_init__(self):
        validate.choice(self, "keyframe_source", ("mined", "true"))


@dataclass(frozen=True)
class ModelSection:
    """A model evaluation trains itself: its config and how it is optimised."""

    model: typing.Any
    train: OptimConfig


@dataclass(frozen=True)
class BackTranslationSection(ModelSection):
    model: BackTranslationConfig


@dataclass(frozen=True)
class RegressionSection(ModelSection):
    model: RegressionConfig


@dataclass(frozen=True)
class SokeSection:
    """``evaluate.soke``: the SOKE-style tokenised generator (trained by ``train_soke``)."""

    model: SokeConfig
    tokenizer_train: OptimConfig     # the decoupled VQ-VAE tokenizer (steps: soke_tokenizer_steps)
    train: OptimConfig               # each text-to-token generator (steps: soke_steps)


@dataclass(frozen=True)
class SignLLMSection:
    """``evaluate.signllm``: SignLLM's MLSF and Prompt2LangGloss (trained by ``train_signllm``)."""

    model: SignLLMConfig
    train: OptimConfig               # every pose decoder (steps: signllm_steps, split over MLSF's languages)
    prompt_train: OptimConfig        # Prompt2LangGloss's prompt-to-gloss model (steps: signllm_prompt_steps)


@dataclass(frozen=True)
class EvaluateConfig:
    """``evaluate``: the paper's tables, and the two models only evaluation needs."""

    batch_size: int              # test sequences per generator call
    workers: int                 # processes that score DTW metrics in parallel (numpy, one core each)
    speed_bins: int              # normalised-time bins of the regression-to-the-mean figure
    realdata: bool               # run the real-data check when the real-data folder exists
    guidance: GuidanceSearchConfig  # guidance scales searched on the validation split
    backtranslation: BackTranslationSection
    regression: RegressionSection
    soke: SokeSection
    signllm: SignLLMSection

    def __post_init__(self):
        validate.integers(self, ("batch_size", "workers"))
        validate.integers(self, ("speed_bins",), low=2)
        validate.flag(self, ("realdata",))


@dataclass(frozen=True)
class AblationVariant:
    """``ablations.variants.<name>``: a generator trained with some keys of ``params.yaml`` changed."""

    overrides: dict               # dotted params.yaml key → value, applied after ``ablations.common``
    languages: tuple[str, ...]    # training languages (empty: every language of the corpus)

    def __post_init__(self):
        validate.require(self, "overrides", isinstance(self.overrides, dict) and all(
            isinstance(k, str) and "." in k for k in self.overrides), "must map dotted params keys to values")


@dataclass(frozen=True)
class AblationsConfig:
    """``ablations``: the generator ablations of Fig 4b, 4c and 5a and the guidance sweep."""

    common: dict                  # overrides every variant shares: the reduced ablation budget
    clips: int                    # test clips per language every variant is scored on
    step_grid: tuple[int, ...]    # Fig 4b: sampling steps (ODE steps; DDIM steps for ddpm)
    long_clips: int               # clips per language sampled at the grid's steps above 100
    sampler: SamplerConfig        # how every variant is sampled (Fig 4b varies only its steps)
    guidance: GuidanceSearchConfig  # the guidance sweep: grids and validation clips per language
    variants: dict[str, AblationVariant]

    def __post_init__(self):
        AblationVariant(self.common, ())  # same form as a variant's overrides
        validate.integers(self, ("clips", "long_clips"))
        validate.require(self, "step_grid", len(self.step_grid) > 0 and min(self.step_grid) >= 1,
                         "must be a non-empty list of step counts >= 1")
        validate.require(self, "variants", len(self.variants) > 0, "must name at least one variant")


@dataclass(frozen=True)
class RenderConfig:
    """``render``: skeleton, mesh and Gaussian-avatar videos of test sentences and real samples."""

    size: int                     # width and height of single renders (pixels)
    compare_size: int             # tile size of the side-by-side comparison videos
    gaussians: int                # Gaussians of the avatar
    identity_seed: int            # the avatar's look (palette, bone scaling); 0 = the default signer
    backend: str                  # avatar rasteriser: auto (gsplat with CUDA, else ours) | cpu | gsplat
    clips_per_language: int       # test sentences rendered per language
    real_sentences: int           # real DGS .pose sentences rendered (skeleton and capsule mesh)
    panel_frames: int             # time points per row of the Fig-6-style still panels
    smplx_dir: str                # folder with the licensed SMPL-X model: meshes use it ("" = the capsule body)

    def __post_init__(self):
        validate.integers(self, ("size", "compare_size"), low=16)
        validate.integers(self, ("panel_frames",), low=2)
        validate.integers(self, ("gaussians",), low=10)
        validate.integers(self, ("identity_seed", "clips_per_language", "real_sentences"), low=0)
        validate.choice(self, "backend", ("auto", "cpu", "gsplat"))


@dataclass(frozen=True)
class ReportConfig:
    """``report``: every stage's tables, figures, metrics, times and videos in one Markdown and one HTML page."""

    title: str                    # the report's heading
    embed_figures: bool           # HTML: figures inline as base64 PNG (self-contained); false: relative links
    max_figure_kb: int            # HTML: an embedded figure above this size is downscaled first (0 = never)

    def __post_init__(self):
        validate.require(self, "title", bool(self.title.strip()), "must not be empty")
        validate.integers(self, ("max_figure_kb",), low=0)


@dataclass(frozen=True)
class Params:
    """All sections of ``params.yaml``, each as its dataclass."""

    base: BaseConfig
    corpus: CorpusConfig
    fast: FastConfig
    keyframes: KeyframesConfig
    signspark: SignSparKSection
    evaluate: EvaluateConfig
    ablations: AblationsConfig
    render: RenderConfig
    report: ReportConfig

    @property
    def sizes(self) -> Sizes:
        return self.base.sizes


#: section name → dataclass.
SECTIONS: dict[str, type] = {name: hint for name, hint in typing.get_type_hints(Params).items()}


def _fail(path: str, what: str) -> SignlibError:
    return SignlibError(f"params: {path}: {what}")


#: A plain decimal number spelled as a string. YAML 1.1 (PyYAML) reads ``1e-3``, ``5E4`` and
#: ``1.0e3`` as strings, because its float needs a dot *and* a signed exponent; everyone writes
#: ``lr: 1e-3``, so a float field (or a list of numbers) takes such a string as the number it
#: spells. ``nan``, ``inf``, hex and underscores stay strings and are refused.
_FLOAT_LITERAL = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _float_literal(value):
    """``value`` as a float when it is a string that spells a plain decimal number, else ``value``."""
    if isinstance(value, str) and _FLOAT_LITERAL.fullmatch(value.strip()):
        return float(value)
    return value


def _value(annotation, value, path: str):
    """``value`` checked against a field's type (recursing into dataclasses)."""
    if dataclasses.is_dataclass(annotation):
        return parse(annotation, value, path)
    origin = typing.get_origin(annotation)
    if origin is tuple:
        item = typing.get_args(annotation)[0]
        kinds = {float: (int, float), str: str}.get(item, int)
        if item is float and isinstance(value, (list, tuple)):
            value = [_float_literal(v) for v in value]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, kinds) and not isinstance(v, bool)
                                                           for v in value):
            what = {float: "numbers", str: "strings"}.get(item, "integers")
            raise _fail(path, f"expected a list of {what}, got {value!r}")
        return tuple(float(v) for v in value) if item is float else tuple(value)
    if origin is dict:  # a mapping of names to configs (ablations.variants)
        if not isinstance(value, dict):
            raise _fail(path, f"expected a mapping, got {value!r}")
        return {str(k): _value(typing.get_args(annotation)[1], v, f"{path}.{k}") for k, v in value.items()}
    if annotation is dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _fail(path, f"expected a mapping, got {value!r}")
        return value
    expected = {int: int, float: (int, float), str: str, bool: bool}.get(annotation)
    if expected is None:
        return value
    if annotation is float:
        value = _float_literal(value)
    # bool is an int in Python; a YAML `true` where a number belongs is still a mistake.
    if (isinstance(value, bool) and annotation is not bool) or not isinstance(value, expected):
        raise _fail(path, f"expected {_TYPE_NAMES[annotation]}, got {value!r:.60}{_hint(annotation, value)}")
    return float(value) if annotation is float else value


_TYPE_NAMES = {int: "int (a whole number)", float: "float (a number)", str: "str (text)", bool: "bool (true or false)"}


def _hint(annotation, value) -> str:
    """How to write what was probably meant, for the common slips."""
    if annotation is int and isinstance(value, float) and value.is_integer():
        return f"; write {int(value)}"
    if annotation is int and isinstance(_float_literal(value), float):
        literal = float(_float_literal(value))
        return f"; write {int(literal)}" if literal.is_integer() else ""
    if annotation is bool and isinstance(value, str):
        return "; write true or false without quotes"
    return ""


def parse(cls: type, raw, path: str):
    """Build dataclass ``cls`` from the mapping ``raw`` found at ``path`` (e.g. ``"signspark.model"``).

    Every field that is not :func:`~signlib.validate.from_data` must be given, and nothing else;
    nested dataclasses are parsed the same way; the dataclass's own checks then run, and their
    errors are reported under the key's full path."""
    if not isinstance(raw, dict):
        raise _fail(path, f"expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    keys = [name for name, f in fields.items() if not validate.is_from_data(f)]
    for key in raw:
        if key not in fields:
            raise SignlibError(f"params: unknown key {path}.{key}; known keys: {', '.join(keys)}")
        if key not in keys:
            raise _fail(f"{path}.{key}", "is set from the data by the stage, not in params.yaml")
    for key in keys:
        if key not in raw:
            raise SignlibError(f"params: missing key {path}.{key}")
    values = {key: _value(hints[key], raw[key], f"{path}.{key}") for key in keys}
    try:
        return cls(**values)
    except validate.InvalidValue as err:
        raise _fail(f"{path}.{err.key}", f"{err.value!r} {err.requirement}") from None
    except SignlibError as err:
        raise _fail(path, str(err)) from None


def parse_section(section: str, raw):
    """The dataclass of top-level ``section`` from its mapping."""
    if section not in SECTIONS:
        raise SignlibError(f"params: unknown section {section!r}; known sections: {', '.join(SECTIONS)}")
    return parse(SECTIONS[section], raw, section)


def read_params(path: str | os.PathLike = "params.yaml") -> dict:
    """The raw ``params.yaml`` mapping. A missing file, a folder, a file that is not UTF-8 text,
    not YAML, empty, or not a mapping at the top is a one-line error naming the file."""
    return read_yaml_mapping(path, "params file not found")


def set_key(raw: dict, dotted: str, value) -> None:
    """Set ``raw[a][b][c] = value`` for ``dotted = "a.b.c"`` (the mappings on the way must exist)."""
    *parents, key = dotted.split(".")
    node = raw
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise SignlibError(f"params: no section {dotted.rsplit('.', 1)[0]!r} to set {dotted!r} in")
        node = node[part]
    node[key] = value


def load_params(path: str | os.PathLike = "params.yaml", **overrides) -> Params:
    """Load and check every section of ``params.yaml``.

    ``overrides`` set single keys for tests and notebooks, with ``__`` for the dots of the key
    path (``base__profile="smoke"``, ``signspark__sampler__steps=4``).
    """
    raw = read_params(path)
    for name, value in overrides.items():
        set_key(raw, name.replace("__", "."), value)
    for section in raw:
        if section not in SECTIONS:
            raise SignlibError(f"params: unknown section {section!r}; known sections: {', '.join(SECTIONS)}")
    missing = [s for s in SECTIONS if s not in raw]
    if missing:
        raise SignlibError(f"params: missing section {missing[0]!r}")
    return Params(**{s: parse_section(s, raw[s]) for s in SECTIONS})
