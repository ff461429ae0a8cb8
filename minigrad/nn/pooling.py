"""Pooling: reduce every window of each channel to one number.

Max and average pooling use the same windows as a convolution
(:mod:`minigrad.ops.conv`): im2col gathers every window's taps, all channels
side by side, then a reduction over the taps - :class:`~minigrad.ops.conv.WindowMax`
(its VJP routes the gradient to the first maximum of each window, then col2im
adds the contributions of overlapping windows) or a sum divided by the window size.
Adaptive average pooling is separable: ``A_h · x · A_wᵀ`` with two small
averaging matrices.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from minigrad import ops
from minigrad.nn.module import Module
from minigrad.ops.conv import Im2col, WindowMax, adaptive_pooling_matrix, output_size, pooling_divisor, windows
from minigrad.tensor import Tensor

__all__ = [
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
]

_ValuesIndices = namedtuple("_ValuesIndices", ["values", "indices"])


def _tuple(value, n: int, name: str) -> tuple:
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(f"{name} must either be a single int, or a tuple of {n} ints")
    return values


def _pool_input(input, nd: int, name: str):
    """``input`` as a batched 4-D tensor (1-D pooling adds a height of 1), and how to undo that."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2) or input.numel() == 0 and input.ndim == nd + 1:
        raise RuntimeError(
            f"{name}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with optional 0 dim batch size for "
            f"input, but got: {list(input.shape)}"
        )
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{name}(): minigrad pools floating-point tensors only, got {input.dtype}")
    batched = input.ndim == nd + 2
    x = input if batched else input.unsqueeze(0)
    if nd == 1:
        x = x.unsqueeze(2)

    def restore(y):
        if nd == 1:
            y = y.squeeze(2)
        return y if batched else y.squeeze(0)

    return x, restore


def _pool_args(name, nd, kernel_size, stride, padding, dilation):
    kernel = _tuple(kernel_size, nd, "kernel_size")
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else _tuple(stride, nd, "stride")
    padding = _tuple(padding, nd, "padding")
    dilation = _tuple(dilation, nd, "dilation")
    if any(k <= 0 for k in kernel):
        raise RuntimeError("kernel size should be greater than zero")
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    for k, p, d in zip(kernel, padding, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} "
                f"and dilation={d}"
            )
    if any(p > k // 2 for k, p in zip(kernel, padding)):  # PyTorch's second check ignores dilation
        dims = list(zip(("H", "W")[2 - nd:], kernel, padding))[::-1]
        raise RuntimeError(
            "pad should be smaller than or equal to half of kernel size, but got "
            + ", ".join(f"pad{a} = {p}" for a, _, p in dims) + ", "
            + ", ".join(f"k{a} = {k}" for a, k, _ in dims)
        )
    if nd == 1:
        kernel, stride, padding, dilation = (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation
    return kernel, stride, padding, dilation


def _pool_windows(x, kernel, stride, padding, dilation, ceil_mode):
    n, c, h, w = x.shape
    sizes = [output_size(s, k, st, p, p, d, ceil_mode) for s, k, st, p, d in zip((h, w), kernel, stride, padding, dilation)]
    if any(s <= 0 for s in sizes):
        raise RuntimeError(
            f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{sizes[0]}x{sizes[1]}). "
            "Output size is too small"
        )
    return windows(n, c, h, w, kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation,
                   ceil_mode=ceil_mode)


def _taps(x, win, pad_value):
    """The windows of ``x`` as (N·L, K, C): every channel's taps side by side (channels-last im2col)."""
    return Im2col.apply(x, win, pad_value).reshape(-1, win.taps, win.channels)


def _to_nchw(y, win):
    """(N·Ho·Wo, C) → (N, C, Ho, Wo)."""
    return y.reshape(win.batch, win.out_height, win.out_width, win.channels).permute(0, 3, 1, 2)


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, restore = _pool_input(input, nd, name)
    kernel, stride, padding, dilation = _pool_args(name, nd, kernel_size, stride, padding, dilation)
    win = _pool_windows(x, kernel, stride, padding, dilation, ceil_mode)
    taps = _taps(x, win, -np.inf)  # padding never wins a max
    out = restore(_to_nchw(WindowMax.apply(taps), win))
    if not return_indices:
        return out
    # The flat position h·W + w in its input plane of each winning tap, as PyTorch returns.
    k = np.argmax(taps._array, axis=1).reshape(win.batch, win.out_height, win.out_width, win.channels)
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.stride, win.dilation
    rows = (np.arange(win.out_height) * sh - win.padding[0])[:, None, None] + (k // kw) * dh
    cols = (np.arange(win.out_width) * sw - win.padding[2])[None, :, None] + (k % kw) * dw
    flat = (rows * win.width + cols).astype(np.int64).transpose(0, 3, 1, 2)
    return _ValuesIndices(out, restore(Tensor._make(np.ascontiguousarray(flat), False, None)))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling over ``(N, C, L)``; :func:`max_pool2d` with a height of 1."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling: the largest value of every window of every channel.

    im2col with ``-inf`` padding (the gather kernel), then ``max`` over each
    window. VJP: ȳ goes to the first arg-max of each window; col2im (index-add)
    sums it over overlapping windows.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 ints
    stride : int or tuple, default ``kernel_size``
    padding : int or tuple, default 0
        At most half the effective kernel size; padded positions never win.
    dilation : int or tuple, default 1
    ceil_mode : bool, default False
        Round the output size up (a last partial window is kept).
    return_indices : bool, default False
        Also return, per output, the flat index ``h·W + w`` of the winner in its input plane.

    Returns
    -------
    Tensor, or (Tensor, Tensor of int64) with ``return_indices``
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x, restore = _pool_input(input, nd, name)
    kernel, stride, padding, dilation = _pool_args(name, nd, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    win = _pool_windows(x, kernel, stride, padding, dilation, ceil_mode)
    sums = _taps(x, win, 0.0).sum(dim=1)  # (N·L, C)
    if divisor_override is not None:
        divisor = float(divisor_override)
    else:
        dh = pooling_divisor(win.height, kernel[0], stride[0], padding[0], win.out_height, count_include_pad)
        dw = pooling_divisor(win.width, kernel[1], stride[1], padding[1], win.out_width, count_include_pad)
        divisor = np.tile(np.outer(dh, dw).reshape(-1), win.batch).astype(x.dtype)[:, None]
    return restore(_to_nchw(sums / divisor, win))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
    """1-D average pooling over ``(N, C, L)``; :func:`avg_pool2d` with a height of 1."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override=None):
    """2-D average pooling: the mean of every window of every channel.

    im2col (the gather kernel), a sum over each window, a division by the
    window size. VJP: each tap receives ȳ/size; col2im (index-add) sums
    overlapping windows.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    kernel_size : int or tuple of 2 ints
    stride : int or tuple, default ``kernel_size``
    padding : int or tuple, default 0
        Zero padding, at most half the kernel size.
    ceil_mode : bool, default False
    count_include_pad : bool, default True
        Count padded zeros in the divisor (PyTorch's default).
    divisor_override : int, optional
        Divide by this instead.

    Returns
    -------
    Tensor, shape (N, C, H_out, W_out)
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_avg_pool(name, nd, input, output_size_):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(input.shape)}")
    sizes = list(input.shape[-nd:])
    if nd == 1:
        out = _tuple(output_size_, 1, "output_size")
    else:
        pair = (output_size_,) * 2 if output_size_ is None or isinstance(output_size_, int) else tuple(output_size_)
        if len(pair) != 2:
            raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
        out = tuple(s if o is None else int(o) for s, o in zip(sizes, pair))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{name}(): output_size must be non-negative, got {out}")
    if input.dtype.kind != "f":
        # The averaging matrices would be integer matrices: truncated weights, a wrong result.
        raise NotImplementedError(f"{name}(): minigrad pools floating-point tensors only, got {input.dtype}")
    if any(s == 0 for s in input.shape[1:]):
        raise RuntimeError(
            f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
            f"{list(input.shape)} with dimension {list(input.shape).index(0)} being empty"
        )
    y = input
    # Width: x · A_wᵀ; height (2-D): A_h · x. Both are plain differentiable matrix products.
    y = y @ Tensor._make(adaptive_pooling_matrix(sizes[-1], out[-1], input.dtype).T.copy(), False, None)
    if nd == 2:
        y = Tensor._make(adaptive_pooling_matrix(sizes[0], out[0], input.dtype), False, None) @ y
    return y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length: output i averages ``[⌊iL/out⌋, ⌈(i+1)L/out⌉)``."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size ``(H_out, W_out)`` (None keeps that input size).

    Output (i, j) averages rows ``[⌊iH/H_out⌋, ⌈(i+1)H/H_out⌉)`` and the
    columns likewise, as PyTorch. Computed as ``A_h · x · A_wᵀ`` with averaging
    matrices (matrix products, so every order of derivative comes for free).
    """
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


# -- modules ---------------------------------------------------------------------------------
class MaxPool1d(Module):
    """1-D max pooling; see :func:`minigrad.nn.functional.max_pool1d`."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(MaxPool1d):
    """2-D max pooling: keep the largest value of each window; see :func:`minigrad.nn.functional.max_pool2d`.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> nn.MaxPool2d(2)(minigrad.arange(16.0).reshape(1, 1, 4, 4))
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    """

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool1d(Module):
    """1-D average pooling; see :func:`minigrad.nn.functional.avg_pool1d`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, 1, "kernel_size")
        self.stride = _tuple(stride if stride is not None else kernel_size, 1, "stride")
        self.padding = _tuple(padding, 1, "padding")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """2-D average pooling: the mean of each window; see :func:`minigrad.nn.functional.avg_pool2d`."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override=None) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """Average pooling to a fixed output length; see :func:`minigrad.nn.functional.adaptive_avg_pool1d`."""

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool2d(AdaptiveAvgPool1d):
    """Average pooling to a fixed output size; see :func:`minigrad.nn.functional.adaptive_avg_pool2d`."""

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)
