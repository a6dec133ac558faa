"""Text conditioning of the SignSparK generator: spoken text + sign language → token vectors.

Both encoders map ``forward(texts, languages)`` to a :class:`TextEncoding` (tokens to cross-attend
to, their mask, a pooled vector):

- :class:`ByteTextEncoder` (``kind="bytes"``, the default) is learned over the byte ids of
  :mod:`signlib.text.tokens`: no vocabulary (Chinese works as bytes), nothing to download.
- :class:`PretrainedSentenceEncoder` (``kind="pretrained"``, optional) is a frozen multilingual
  sentence encoder (M-CLIP ``XLM-Roberta-Large-Vit-B-32``) plus a trainable projection. It needs
  ``pip install transformers`` and reads only ``pretrained_path``: a local folder with an XLM-R
  ``config.json`` (M-CLIP's own, ``"model_type": "M-CLIP"``, only names its base: copy
  xlm-roberta-large's there), the tokenizer files and ``model.safetensors`` or ``pytorch_model.bin``.
  M-CLIP's layout (XLM-R under ``transformer.``, ``LinearTransformation`` 1024 → 512 beside it)
  is read from ``*.safetensors``; convert M-CLIP's ``.bin`` once with ``safetensors.torch.save_file(
  torch.load("pytorch_model.bin", weights_only=True), "model.safetensors")``.

Security: safetensors files are read with safetensors (tensors only, ``use_safetensors=True``); a
``.bin`` is left to transformers' own (``weights_only``) loader; remote code is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from signlib.errors import SignlibError, file_error
from signlib.generate.configs import TextEncoderConfig
from signlib.text.tokens import PAD, SIGN_LANGUAGES, VOCAB_SIZE, encode_texts, text_ids
from signlib.layers import TransformerStack, sinusoid


@dataclass(frozen=True, eq=False)  # eq=False: the fields are tensors, whose == is elementwise
class TextEncoding:
    """A batch of ``B`` encoded texts: ``tokens (B, L, d)`` float (zero on padding), ``mask (B, L)``
    bool (True on real tokens) and ``pooled (B, d)`` (the mean of the real tokens)."""

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor


def _encoding(tokens: torch.Tensor, mask: torch.Tensor) -> TextEncoding:
    """:class:`TextEncoding` of ``tokens (B, L, d)`` under ``mask (B, L)``: pads zeroed, masked mean."""
    m = mask[..., None].to(tokens.dtype)
    tokens = tokens * m
    return TextEncoding(tokens, mask, tokens.sum(1) / m.sum(1).clamp(min=1.0))


class ByteTextEncoder(nn.Module):
    """Learned: ``Embedding(VOCAB_SIZE, d)`` + sinusoidal positions + TransformerStack over ``[<LANG>]
    + UTF-8 bytes`` (``L <= max_bytes + 1``); a ``None`` text (dropped) is the lone NULL token."""

    def __init__(self, config: TextEncoderConfig | None = None):
        super().__init__()
        self.config = c = config or TextEncoderConfig()
        self.embed = nn.Embedding(VOCAB_SIZE, c.d_model, padding_idx=PAD)
        self.encoder = TransformerStack(c.d_model, c.heads, c.ff, c.layers, c.dropout)
        self.register_buffer("pe", sinusoid(c.max_bytes + 1, c.d_model), persistent=False)  # + <LANG>

    def forward(self, texts: list[str | None], languages: list[str] | None = None) -> TextEncoding:
        """``B`` texts and their sign languages → :class:`TextEncoding` on the module's device."""
        ids, mask = encode_texts(texts, languages, self.config.language_token, self.config.max_bytes)
        dev = self.embed.weight.device
        return self.encode_ids(ids.to(dev), mask.to(dev))

    def encode_ids(self, ids: torch.Tensor, mask: torch.Tensor) -> TextEncoding:
        """Already tokenised ``ids (B, L)`` int64 and ``mask (B, L)`` bool (from ``encode_texts``)."""
        if ids.dim() != 2 or ids.shape != mask.shape or ids.shape[1] > self.pe.shape[0]:
            raise SignlibError(f"encode_ids: ids {tuple(ids.shape)} and mask {tuple(mask.shape)} must both be "
                               f"(B, L) with L <= max_bytes + 1 = {self.pe.shape[0]}")
        mask = mask.bool()
        h = self.embed(ids) + self.pe[: ids.shape[1]]
        return _encoding(self.encoder(h, mask), mask)


_FROZEN = ("backbone.", "mclip_projection.")  # loaded from pretrained_path, never trained or saved


class PretrainedSentenceEncoder(nn.Module):
    """Frozen M-CLIP sentence vector (XLM-R last hidden state, masked mean, ``LinearTransformation``
    if present; no_grad) → trainable ``Linear`` to ``d_model``, plus a learned language embedding
    (the tokenizer has no ``<ASL>``) and null vector. Tokens: ``(B, 2, d)`` = [language, sentence]
    (``(B, 1, d)`` with ``language_token`` off); a ``None`` text is the null vector alone, mask
    ``[True, False]``. ``backbone`` + ``tokenizer`` (+ ``projection``) may replace the folder (tests
    pass fakes). Frozen weights stay out of ``state_dict``; loading a checkpoint keeps them.
    """

    def __init__(self, config: TextEncoderConfig, backbone: nn.Module | None = None, tokenizer=None,
                 projection: nn.Linear | None = None):
        super().__init__()
        self.config = c = config
        if backbone is None or tokenizer is None:
            backbone, tokenizer, projection = _load_mclip(c.pretrained_path)
        self.backbone, self.tokenizer, self.mclip_projection = backbone.eval(), tokenizer, projection
        self.requires_grad_(False)  # only the frozen parts exist so far
        width = projection.out_features if projection is not None else backbone.config.hidden_size
        self.proj = nn.Linear(width, c.d_model)
        self.language = nn.Embedding(len(SIGN_LANGUAGES), c.d_model)
        self.null = nn.Parameter(0.02 * torch.randn(c.d_model))
        self.register_state_dict_post_hook(_drop_frozen)
        self.register_load_state_dict_pre_hook(_keep_frozen)

    def train(self, mode: bool = True) -> PretrainedSentenceEncoder:
        super().train(mode)
        self.backbone.eval()  # frozen: its dropout stays off while the projection trains
        return self

    @torch.no_grad()
    def sentence_vectors(self, texts: list[str]) -> torch.Tensor:
        """The frozen part: ``b`` texts → ``(b, D)`` float (``D`` = 512 for M-CLIP ViT-B/32)."""
        device = self.null.device
        batch = self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        ids, att = batch["input_ids"].to(device), batch["attention_mask"].to(device)
        hidden = self.backbone(input_ids=ids, attention_mask=att)[0]       # (b, T, H) last hidden state
        vec = _encoding(hidden, att.bool()).pooled                          # M-CLIP's pooling: masked mean
        if self.mclip_projection is not None:
            vec = self.mclip_projection(vec)
        return vec.float()

    def forward(self, texts: list[str | None], languages: list[str] | None = None) -> TextEncoding:
        """``B`` texts and their sign languages → :class:`TextEncoding` ``(B, 2 or 1, d)``."""
        c, texts = self.config, list(texts)
        languages = [None] * len(texts) if languages is None else list(languages)
        if not texts or len(languages) != len(texts):
            raise SignlibError(f"texts, languages: need B >= 1 of each, got {len(texts)} and {len(languages)}")
        for i, (text, lang) in enumerate(zip(texts, languages)):
            if text is not None:  # the bytes encoder's checks: not str, empty, not UTF-8, over max_bytes, language
                text_ids(text, lang, c.language_token, c.max_bytes, f"texts[{i}]")
        kept = [i for i, t in enumerate(texts) if t is not None]
        rows = dict(zip(kept, self.proj(self.sentence_vectors([texts[i].strip() for i in kept])))) if kept else {}
        sentence = torch.stack([rows.get(i, self.null) for i in range(len(texts))])   # (B, d)
        present = torch.tensor([t is not None for t in texts], device=sentence.device)
        if not c.language_token:
            return _encoding(sentence[:, None], torch.ones_like(present)[:, None])
        lang = torch.tensor([SIGN_LANGUAGES.index(l) if t is not None else 0 for t, l in zip(texts, languages)],
                            device=sentence.device)
        # A dropped text is the null vector alone in front, so no language leaks into the unconditional branch.
        first = torch.where(present[:, None], self.language(lang), sentence)
        return _encoding(torch.stack([first, sentence], 1), torch.stack([torch.ones_like(present), present], 1))


def _drop_frozen(module, state_dict, prefix, local_metadata) -> None:
    for key in [k for k in state_dict if k.startswith(tuple(prefix + f for f in _FROZEN))]:
        del state_dict[key]


def _keep_frozen(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors) -> None:
    # A checkpoint without the frozen weights still loads strictly: the loaded ones stand in for them.
    for part in ("backbone", "mclip_projection"):
        if getattr(module, part) is not None:
            for name, tensor in getattr(module, part).state_dict(prefix=f"{prefix}{part}.").items():
                state_dict.setdefault(name, tensor)


_FILES = {"config": ("config.json",), "weights": ("model.safetensors", "model.safetensors.index.json",
                                                   "pytorch_model.bin", "pytorch_model.bin.index.json"),
          "tokenizer": ("tokenizer.json", "sentencepiece.bpe.model", "tokenizer_config.json")}


def _load_mclip(path: str):
    """``(backbone, tokenizer, projection or None)`` from a local folder (see the module docstring)."""
    if not path:
        raise SignlibError("pretrained_path is empty; kind='pretrained' needs a local M-CLIP checkpoint folder")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise file_error(folder, "pretrained_path: no such folder (the pretrained text encoder never downloads)")
    for what, names in _FILES.items():
        if not any((folder / n).is_file() for n in names):
            raise file_error(folder, f"pretrained_path: no {what} file (expected {' or '.join(names)})")
    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise file_error(folder / "config.json", f"not a JSON config: {exc}") from None
    if model_type == "M-CLIP":
        raise file_error(folder / "config.json", "is M-CLIP's wrapper config; put xlm-roberta-large's config.json here")
    try:
        import transformers
        from safetensors import safe_open  # a transformers dependency
    except ImportError:
        raise SignlibError("kind='pretrained' needs the transformers library: pip install transformers") from None
    safetensors_files, backbone_weights, mclip = sorted(folder.glob("*.safetensors")), {}, {}
    local = dict(local_files_only=True, trust_remote_code=False)  # never download, never run the folder's code
    try:
        for f in safetensors_files:  # M-CLIP's layout: XLM-R under "transformer.", its projection beside it
            with safe_open(str(f), framework="pt") as fh:
                for key in fh.keys():
                    if key.split(".")[-2:-1] == ["LinearTransformation"]:
                        mclip[key.rsplit(".", 1)[1]] = fh.get_tensor(key)
                    elif key.startswith("transformer."):
                        backbone_weights[key[len("transformer."):]] = fh.get_tensor(key)
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, **local)
        if backbone_weights:  # AutoModel would not find them under "transformer."
            backbone = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(folder, **local))
            missing = backbone.load_state_dict(backbone_weights, strict=False).missing_keys
        else:
            backbone, info = transformers.AutoModel.from_pretrained(
                folder, use_safetensors=bool(safetensors_files), output_loading_info=True, **local)
            missing = info["missing_keys"]
        projection = None
        if "weight" in mclip:
            projection = nn.Linear(mclip["weight"].shape[1], mclip["weight"].shape[0], bias="bias" in mclip)
            projection.load_state_dict(mclip)
    except Exception as exc:  # noqa: BLE001 -- any library failure becomes one line naming the folder
        raise file_error(folder, f"cannot load the pretrained text encoder: {type(exc).__name__}: {exc}") from exc
    missing = [k for k in missing if "pooler" not in k]  # M-CLIP never uses the pooler
    if missing:
        raise file_error(folder, f"{len(missing)} backbone weights missing (e.g. {missing[0]!r}): not an XLM-R "
                                 "checkpoint, or M-CLIP's .bin (convert it to model.safetensors)")
    if projection is not None and projection.in_features != backbone.config.hidden_size:
        raise file_error(folder, f"LinearTransformation takes {projection.in_features} features, the backbone "
                                 f"gives {backbone.config.hidden_size}")
    return backbone, tokenizer, projection


TEXT_ENCODERS: dict[str, type[nn.Module]] = {"bytes": ByteTextEncoder, "pretrained": PretrainedSentenceEncoder}


def build_text_encoder(config: TextEncoderConfig) -> nn.Module:
    """The text encoder ``config.kind`` names, built from ``config``."""
    if config.kind not in TEXT_ENCODERS:
        raise SignlibError(f"text encoder: kind={config.kind!r} is not one of {', '.join(TEXT_ENCODERS)}")
    return TEXT_ENCODERS[config.kind](config)
