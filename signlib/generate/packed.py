"""Inference convolutions of the UNet with their weights laid out once per sampling run.

A sampler calls the same UNet ten times or more on the same shapes. On a CPU, a plain
``nn.Conv1d`` call pays twice for data layout on every call: oneDNN reorders the weight into its
blocked format, and the activations of ``(B, C, T)`` tensors are reordered in and out as well. At
the batch sizes of generation (one request, three guidance rows) those reorders cost about as
much as the arithmetic. :class:`PackedConv` instead keeps the weight reordered for each input
shape it sees (once per model and shape, :func:`cached`) and takes activations as channels-last ``(B, C, 1, T)`` tensors,
whose memory is ``(B, T, C)``: oneDNN reads and writes that layout directly, and the per-frame
LayerNorms of the UNet read it without a transpose copy. Measured on two CPU cores at batch 3,
the convolutions of the default UNet take about half the time of the plain calls.

The packed kernel is oneDNN's fused convolution (the one ``torch.compile`` uses after freezing).
It has no gradient, so it runs only without autograd on float32 CPU tensors with oneDNN
available; everywhere else (a GPU, gradients, a build without oneDNN) the same call is a plain
``F.conv2d`` on the same layout. Either way the result equals ``nn.Conv1d`` to float round-off
(tested), never bitwise: training keeps the plain one-pass :meth:`UNet1D.forward`.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

#: Whether this torch build has oneDNN (x86 and ARM wheels do); checked once, as it is per call.
ONEDNN = torch.backends.mkldnn.is_available()


def _packable(x: torch.Tensor) -> bool:
    return ONEDNN and x.dtype == torch.float32 and x.device.type == "cpu" and not torch.is_grad_enabled()


class PackedConv:
    """A 1D convolution ``weight (C_out, C_in, K)`` with ``bias (C_out,)`` or None, applied to
    channels-last ``(B, C_in, 1, T)`` → channels-last ``(B, C_out, 1, T_out)``.

    The weight is copied at construction, so a later change of the module's weights never reaches
    an existing pack (:func:`cached` builds a new one). oneDNN's reordered weight depends on the
    input shape (a weight reordered for another shape ran ten times slower in our measurements),
    so one is kept per shape, for the last :attr:`SHAPES` shapes (a sampling run keeps its shape;
    evaluation batches change it)."""

    SHAPES = 4

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, stride: int = 1, padding: int = 1):
        self.weight = weight.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        self.bias = None if bias is None else bias.clone()
        self.stride, self.padding = stride, padding
        self._packed: OrderedDict[tuple[int, ...], torch.Tensor] = OrderedDict()

    @classmethod
    def of(cls, conv: nn.Conv1d, columns: torch.Tensor | None = None, bias: bool = True) -> PackedConv:
        """The pack of an ``nn.Conv1d`` (groups 1, dilation 1, numeric padding), restricted to the
        input channels where the bool mask ``columns`` is set (all when None), with or without
        its bias."""
        if conv.groups != 1 or conv.dilation != (1,) or isinstance(conv.padding, str):
            raise ValueError(f"PackedConv takes plain convolutions; got groups={conv.groups}, "
                             f"dilation={conv.dilation}, padding={conv.padding!r}")
        weight = conv.weight if columns is None else conv.weight[:, columns]
        return cls(weight, conv.bias if bias else None, conv.stride[0], conv.padding[0])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[2] != 1:
            raise ValueError(f"PackedConv expects (B, C, 1, T) input; got shape {tuple(x.shape)}")
        if not _packable(x):
            return F.conv2d(x, self.weight, self.bias, stride=(1, self.stride), padding=(0, self.padding))
        shape = tuple(x.shape)
        if shape not in self._packed:
            with torch.no_grad():
                self._packed[shape] = torch._C._nn.mkldnn_reorder_conv2d_weight(
                    self.weight.to_mkldnn(), [0, self.padding], [1, self.stride], [1, 1], 1, list(shape))
            if len(self._packed) > self.SHAPES:
                self._packed.popitem(last=False)
        self._packed.move_to_end(shape)
        return torch.ops.mkldnn._convolution_pointwise(
            x.contiguous(memory_format=torch.channels_last), self._packed[shape], self.bias,
            [0, self.padding], [1, self.stride], [1, 1], 1, "none", [], "")


#: What :func:`cached` built, per owner module. Kept outside the module so that ``deepcopy``,
#: pickling and ``state_dict`` never see the oneDNN tensors; dropped with the owner.
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

V = TypeVar("V")


def _version(sources: Sequence[torch.Tensor]) -> tuple:
    """What identifies the current values of ``sources``: storage and in-place version counter
    (an optimiser step or ``load_state_dict`` bumps the counter; ``.to()`` moves the storage)."""
    return tuple((p.data_ptr(), p._version, p.dtype, p.device) for p in sources)


def cached(owner: nn.Module, key: Hashable, sources: Sequence[torch.Tensor], build: Callable[[], V]) -> V:
    """``build()``, a value computed from the tensors ``sources`` (weights of ``owner``), reused
    for ``owner`` under ``key`` while they are unchanged, so repeated sampling pays for weight
    copies and reorders once. Under autograd nothing is cached: a fresh value carries the
    gradient to the weights."""
    if torch.is_grad_enabled():
        return build()
    entries = _CACHE.setdefault(owner, {})
    version = _version(sources)
    if key not in entries or entries[key][0] != version:
        entries[key] = (version, build())
    return entries[key][1]


def conv_weights(conv: nn.Conv1d) -> list[torch.Tensor]:
    """The tensors a convolution's pack is computed from (for :func:`cached`)."""
    return [conv.weight] if conv.bias is None else [conv.weight, conv.bias]
