"""The configs of the generator's parts, each a frozen dataclass declared once (``params.yaml``:
``signspark.model``, ``.loss``, ``.data``, ``.sampler``, ``.text2gloss.model``; the regression
baseline nests :class:`TextEncoderConfig` too).

They live apart from the networks so that :mod:`signlib.config`, which every stage imports, reads
them without reaching any network code: editing the UNet reruns only the stages that build it.
Every check raises :class:`signlib.validate.InvalidValue` naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from signlib import validate
from signlib.errors import SignlibError
from signlib.layers import EncoderDecoderSize
from signlib.pose.layout import get_layout

#: The text encoders :func:`signlib.generate.text.build_text_encoder` builds.
TEXT_ENCODER_KINDS = ("bytes", "pretrained")
#: The ODE solvers of :func:`signlib.generate.sampling.sample`.
SOLVERS = ("euler", "heun")
#: How features are standardised (:class:`signlib.layers.Standardised`): one scale per body part,
#: or one per channel (which over-weights channels that hardly move; kept for the diagnostics).
STANDARDISE = ("part", "channel")
#: Where the flow starts (:mod:`signlib.generate.prior`): standard normal noise in standardised
#: features (the paper), or noise centred on the keyframe track and scaled to what the track misses.
PRIORS = ("standard", "keyframes")
#: Where the flow loss measures errors: in the prior's flow coordinates (every frame unit-scale), or
#: in standardised features (frames weighted by the prior's scale squared; the same under the standard prior).
LOSS_SPACES = ("flow", "features")
#: Time profiles of the keyframe track between two keyframes (:func:`signlib.generate.flow.ease`).
EASINGS = ("linear", "minimum_jerk")
#: What the network predicts and how it is sampled (Fig 4b): ``recon_cfm`` SignSparK (the clean
#: sequence, flow matching, Euler/Heun), ``cfm`` plain flow matching (the velocity itself), ``ddpm``
#: a diffusion model (the clean sequence on a cosine-schedule noise path, DDIM sampling;
#: :mod:`signlib.generate.diffusion`).
GENERATORS = ("recon_cfm", "cfm", "ddpm")


@dataclass(frozen=True)
class TextEncoderConfig:
    kind: str = "bytes"            # bytes (learned) | pretrained (frozen M-CLIP + trainable projection)
    d_model: int = 128             # width of the output tokens
    layers: int = 2                # bytes: transformer layers (0: embeddings + positions only)
    heads: int = 4                 # bytes: attention heads
    ff: int = 256                  # bytes: feed-forward width
    dropout: float = 0.1           # bytes: residual dropout
    max_bytes: int = 256           # longer texts (UTF-8 bytes) are an error, never silently cut
    language_token: bool = True    # condition on the sign language (off for the ablation)
    pretrained_path: str = ""      # pretrained: the local checkpoint folder (module docstring)

    def __post_init__(self):
        validate.choice(self, "kind", TEXT_ENCODER_KINDS)
        validate.integers(self, ("d_model", "heads", "ff", "max_bytes"))
        validate.integers(self, ("layers",), low=0)
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)
        validate.flag(self, ("language_token",))
        validate.require(self, "heads", self.d_model % self.heads == 0, f"must divide d_model={self.d_model}")
        validate.require(self, "pretrained_path", isinstance(self.pretrained_path, str), "must be a folder path")


@dataclass(frozen=True)
class UNetConfig:
    channels: tuple[int, ...] = (96, 192, 256)   # width per level; each level halves the frame rate
    patch: int = 2                               # frames folded into one position before level 0
    blocks: int = 1                              # residual blocks per level (down and up)
    heads: int = 4                               # bottleneck attention heads
    cond_dim: int = 256                          # condition vector (time + pooled text)
    dropout: float = 0.0

    def __post_init__(self):
        if isinstance(self.channels, (list, tuple)):
            object.__setattr__(self, "channels", tuple(self.channels))
        validate.require(self, "channels", isinstance(self.channels, tuple) and len(self.channels) > 0
                         and all(isinstance(c, int) and not isinstance(c, bool) and c >= 8 for c in self.channels),
                         "must be a non-empty list of widths >= 8")
        validate.integers(self, ("patch", "blocks", "heads"))
        validate.integers(self, ("cond_dim",), low=8)
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)
        validate.require(self, "heads", self.channels[-1] % self.heads == 0,
                         f"must divide the bottleneck width {self.channels[-1]}")

    @property
    def stride(self) -> int:
        """Sequence lengths are padded (inside the network) to a multiple of this."""
        return self.patch * 2 ** (len(self.channels) - 1)


@dataclass(frozen=True)
class SignSparKConfig:
    """The generator (``params.yaml``: ``signspark.model``); layout, length limit and frame rate
    come from the corpus."""

    layout: str = validate.from_data("rot6d")
    max_frames: int = validate.from_data(512)    # longest sequence the model generates
    fps: float = validate.from_data(25.0)
    keyframe_track: bool = True                  # also feed the interpolated keyframes; predict a correction
    standardise: str = "part"                    # part | channel: feature scales (STANDARDISE)
    skip: bool = False                           # EDM-style skip: x̂1 mixes the control in by flow time
    prior: str = "keyframes"                     # standard | keyframes: the flow's source distribution (PRIORS)
    easing: str = "minimum_jerk"                 # linear | minimum_jerk: the keyframe track's time profile
    generator: str = "recon_cfm"                 # recon_cfm | cfm | ddpm (GENERATORS)
    diffusion_steps: int = 1000                  # ddpm: training timesteps of the noise schedule
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)

    def __post_init__(self):
        get_layout(self.layout)
        validate.integers(self, ("max_frames",))
        validate.numbers(self, ("fps",), 1e-3)
        validate.flag(self, ("keyframe_track",))
        validate.choice(self, "standardise", STANDARDISE)
        validate.flag(self, ("skip",))
        validate.choice(self, "prior", PRIORS)
        validate.choice(self, "easing", EASINGS)
        validate.choice(self, "generator", GENERATORS)
        validate.integers(self, ("diffusion_steps",), low=2)
        validate.require(self, "skip", not (self.skip and self.generator != "recon_cfm"),
                         "the skip weights are written for the recon_cfm generator's flow path")
        validate.require(self, "prior", self.prior == "standard" or self.keyframe_track,
                         "keyframes needs keyframe_track: true (the network must see the track it refines)")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["unet"]["channels"] = list(self.unet.channels)
        return d

    @staticmethod
    def from_dict(d: dict) -> "SignSparKConfig":
        try:
            return SignSparKConfig(**{**d, "text": TextEncoderConfig(**d["text"]), "unet": UNetConfig(**d["unet"])})
        except (TypeError, KeyError) as err:
            raise SignlibError(f"not a SignSparK config ({type(err).__name__}: {err})") from None

    def for_data(self, layout: str, fps: float, max_frames: int) -> "SignSparKConfig":
        """This architecture for sequences of ``layout`` at ``fps``, at most ``max_frames`` long."""
        return dataclasses.replace(self, layout=layout, fps=fps, max_frames=max_frames)


@dataclass(frozen=True)
class FlowLossConfig:
    """Weights of the SignSparK objective (``params.yaml``: ``signspark.loss``)."""

    cfm_weight: float = 2.0             # L_CFM : L_recon : L_vel = 2 : 1 : 1 (the paper)
    recon_weight: float = 1.0
    velocity_weight: float = 1.0
    acceleration_weight: float = 0.0    # optional second-difference term (off by default)
    length_weight: float = 0.1          # the length head's log-length regression (text-to-pose needs a length)
    position_weight: float = 0.0        # joint positions of x̂1 through forward kinematics, cm² (positions.py)
    space: str = "flow"                 # flow | features: where errors are measured (LOSS_SPACES)

    def __post_init__(self):
        validate.numbers(self, ("cfm_weight", "recon_weight", "velocity_weight", "acceleration_weight",
                                "length_weight", "position_weight"))
        validate.choice(self, "space", LOSS_SPACES)


@dataclass(frozen=True)
class BatchConfig:
    """How training batches are drawn (``params.yaml``: ``signspark.data``)."""

    text_drop: float = 0.1     # classifier-free guidance: drop the text ...
    key_drop: float = 0.1      # ... and, independently, the keyframes (what trains text-to-pose)
    bucket: int = 4            # length buckets: clips drawn from the bucket × batch_size nearest in length

    def __post_init__(self):
        validate.numbers(self, ("text_drop", "key_drop"), 0.0, 1.0)
        validate.integers(self, ("bucket",), low=0)


@dataclass(frozen=True)
class SamplerConfig:
    steps: int = 8              # network evaluations per branch (Heun: about twice as many; ddpm: DDIM steps)
    solver: str = "euler"       # euler | heun
    text_scale: float = 1.0     # s_T; 1 = plain conditional
    key_scale: float = 1.0      # s_K; 1 = plain conditional
    temperature: float = 1.0    # scale of the starting noise x0 (< 1 trades variety for accuracy)

    def __post_init__(self):
        validate.integers(self, ("steps",))
        validate.choice(self, "solver", SOLVERS)
        validate.numbers(self, ("text_scale", "key_scale"), 0.0, 100.0)
        validate.numbers(self, ("temperature",), 0.0, 2.0)


@dataclass(frozen=True)
class GuidanceSearchConfig:
    """The guidance grids searched on the validation split (``params.yaml``: ``evaluate.guidance``;
    :func:`signlib.evaluate.guidance.pick_guidance`). Scale 1 must be in both grids."""

    clips: int = 6                                  # validation clips per language
    key_scales: tuple[float, ...] = (1.0, 1.25)     # s_K tried for keyframe-to-pose
    text_scales: tuple[float, ...] = (1.0, 1.5, 2.0)  # s_T tried for keyframe- and text-to-pose
    temperatures: tuple[float, ...] = (1.0,)        # scales of the starting noise tried for keyframe-to-pose

    def __post_init__(self):
        for name in ("key_scales", "text_scales", "temperatures"):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
                value = getattr(self, name)
            validate.require(self, name, isinstance(value, tuple) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0.0 <= v <= 100.0 for v in value)
                and 1.0 in value and (name != "temperatures" or max(value) <= 2.0),
                "must be a list of scales in [0, 100] (temperatures: [0, 2]) that includes 1")
        validate.integers(self, ("clips",))


@dataclass(frozen=True)
class Text2GlossConfig(EncoderDecoderSize):
    """Size of a :class:`Text2Gloss` model (``params.yaml``: ``signspark.text2gloss.model``)."""

    max_bytes: int = 256        # longest text in UTF-8 bytes (the language token comes on top)
    max_glosses: int = 24       # longest gloss sequence (EOS comes on top)
    ngram_buckets: int = 8192   # hashed byte 1-3-gram embeddings shared by text and gloss spellings

    def __post_init__(self):
        self.check_size()
        validate.integers(self, ("max_bytes", "max_glosses", "ngram_buckets"))
