"""Sliding windows as an Embedding: im2col is a row gather, col2im a row index-add.

Lay an image batch ``x`` of shape ``(N, C, H, W)`` out *channels-last* and cut
every image row into *strips*: the ``kW`` pixels a kernel row covers when it
starts at column w, with all their channels - one row of a table, like one word
vector of an Embedding. One extra row holds the padding value. A window of a
convolution or a pooling layer is then a list of ``kH`` row numbers, one per
kernel row (the padding row where a kernel row lies in the top or bottom
padding; left and right padding is inside the strips). Stack the lists of every
output position and you have an *index table*; with it

* **im2col** is :func:`minigrad.kernels.gather`: ``cols[p, a, :] = rows[index[p, a], :]``,
  exactly an Embedding lookup whose "words" are strips of pixels;
* **col2im**, its adjoint, is :func:`minigrad.kernels.index_add`:
  ``rows[index[p, a], :] += cols[p, a, :]`` - a strip read by several
  overlapping windows receives the sum of all their gradients, as a repeated
  word does in an Embedding's backward; each strip's ``kW`` taps are then
  added to their pixels.

(Strips rather than single pixels: the rows are ``kW`` times wider and there
are ``kW`` times fewer of them, which is what the kernels do fastest.)

A convolution is im2col followed by one matrix product with the flattened
kernels; a transposed convolution is a matrix product followed by col2im (the
two kernels swap roles); max and average pooling reduce each window's taps
(:class:`WindowMax`, a sum). Those compositions live in :mod:`minigrad.nn.conv`
and :mod:`minigrad.nn.pooling`; this module holds the differentiable ops and
the geometry they share.

Groups: with ``groups = G`` the channels split into G blocks of ``C/G``; the
row table holds block g's strips first-dimension-major so that one gather
produces the columns of every group, shaped ``(G, N·L, K·C/G)`` (L output
positions, K = kH·kW taps, taps-major then channels).

Index tables depend only on the geometry, so they are computed once per shape
and kept in a bounded cache (:func:`windows`).
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive

__all__ = ["Windows", "windows", "output_size", "strip_table", "Im2col", "Col2im", "WindowMax", "im2col", "col2im"]


def output_size(size: int, kernel: int, stride: int, pad_before: int, pad_after: int, dilation: int,
                ceil_mode: bool = False) -> int:
    """Number of window positions along one axis (PyTorch's formula, ``ceil_mode`` as in pooling).

    A window starts every ``stride`` steps from ``-pad_before``; it spans
    ``dilation·(kernel − 1) + 1`` positions and must fit in the padded axis. With
    ``ceil_mode`` a last partial window is kept if it starts inside the input or
    the leading padding.
    """
    span = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    n = -(-span // stride) + 1
    if (n - 1) * stride >= size + pad_before:
        n -= 1
    return n


class Windows(NamedTuple):
    """The geometry of a 2-D sliding-window op and its cached index table.

    The row table has one row per *strip*: for image n, group g, input row h and
    output column j, the ``kW`` taps of a kernel row starting at column
    ``w = j·sw − left``, ``(x[h, w], x[h, w + dw], ..., x[h, w + (kW − 1)·dw])``
    (the padding value outside the image), each with its ``C/G`` channels.
    ``index`` has shape ``(G, N, Ho, Wo, kH)``: entry ``[g, n, i, j, a]`` is the
    strip read by kernel row ``a`` at output position ``(i, j)``, or ``pad_row``
    (the last row) where that kernel row is in the top or bottom padding.
    Read-only: it is shared by every call with the same geometry.
    """

    batch: int
    channels: int
    height: int
    width: int
    groups: int
    kernel: tuple
    stride: tuple
    padding: tuple  # (top, bottom, left, right); right includes any ceil_mode overhang
    dilation: tuple
    out_height: int
    out_width: int
    index: np.ndarray

    @property
    def pad_row(self) -> int:
        return self.groups * self.batch * self.height * self.out_width

    @property
    def taps(self) -> int:
        return self.kernel[0] * self.kernel[1]

    @property
    def group_channels(self) -> int:
        return self.channels // self.groups

    @property
    def padded_width(self) -> int:
        return self.width + self.padding[2] + self.padding[3]


@functools.lru_cache(maxsize=32)
def windows(batch: int, channels: int, height: int, width: int, kernel: tuple, stride: tuple = (1, 1),
            padding: tuple = (0, 0, 0, 0), dilation: tuple = (1, 1), groups: int = 1,
            ceil_mode: bool = False) -> Windows:
    """The :class:`Windows` of a geometry, with its index table (cached: at most 32 geometries).

    Parameters
    ----------
    batch, channels, height, width : int
        The input's shape ``(N, C, H, W)``.
    kernel, stride, dilation : tuple of 2 ints
    padding : tuple of 4 ints
        ``(top, bottom, left, right)``; asymmetric padding serves ``padding='same'``.
    groups : int
        ``channels`` must be divisible by it (the caller checks).
    ceil_mode : bool
        Keep a last partial window (pooling).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    top, bottom, left, right = padding
    ho = output_size(height, kh, sh, top, bottom, dh, ceil_mode)
    wo = output_size(width, kw, sw, left, right, dw, ceil_mode)
    # A ceil_mode window may hang over the right padding: pad that far (with the pad value).
    right = max(right, (wo - 1) * sw + (kw - 1) * dw + 1 - width - left)
    # Input row of kernel row a at output row i: h[i, a] = i·sh − top + a·dh.
    h = (np.arange(ho) * sh - top)[:, None] + np.arange(kh)[None, :] * dh  # (Ho, kH)
    hh, jj = h[:, None, :], np.arange(wo)[None, :, None]  # (Ho, 1, kH), (1, Wo, 1)
    inside = (hh >= 0) & (hh < height)
    pad_row = groups * batch * height * wo
    dtype = np.int32 if pad_row < 2**31 else np.int64  # half the memory traffic of int64
    base = (np.arange(groups * batch) * (height * wo)).reshape(groups, batch, 1, 1, 1)
    index = np.where(inside, base + hh * wo + jj, pad_row).astype(dtype)  # (G, N, Ho, Wo, kH)
    index.flags.writeable = False
    return Windows(batch, channels, height, width, groups, (kh, kw), (sh, sw), (top, bottom, left, right),
                   (dh, dw), ho, wo, index)


def _tap_columns(win: Windows, b: int) -> slice:
    """The padded-image columns tap ``b`` of the strips 0, 1, ..., Wo − 1 read."""
    start = b * win.dilation[1]
    return slice(start, start + (win.out_width - 1) * win.stride[1] + 1, win.stride[1])


def strip_table(x: np.ndarray, win: Windows, pad_value: float) -> np.ndarray:
    """``x`` (N, C, H, W) as the strip table ``(G·N·H·Wo + 1, kW·C/G)``, the padding row last."""
    n, c, h, w = x.shape
    g, cg, kw, left = win.groups, win.group_channels, win.kernel[1], win.padding[2]
    image = x.reshape(n, g, cg, h, w).transpose(1, 0, 3, 4, 2)  # (G, N, H, W, C/G): a channels-last view
    if win.padded_width != w:  # left/right padding (or a ceil_mode overhang)
        padded = np.full((g, n, h, win.padded_width, cg), pad_value, dtype=x.dtype)
        padded[:, :, :, left:left + w] = image
        image = padded
    rows = np.empty((g * n * h * win.out_width + 1, kw * cg), dtype=x.dtype)
    if _tiling(win):  # the strips are the image rows cut in pieces: one copy
        rows[:-1].reshape(image.shape)[...] = image
    else:
        strips = rows[:-1].reshape(g, n, h, win.out_width, kw, cg)
        for b in range(kw):  # tap b of every strip: the image shifted by b·dw, every sw-th column
            strips[..., b, :] = image[:, :, :, _tap_columns(win, b)]
    rows[-1] = pad_value
    return rows


def _tiling(win: Windows) -> bool:
    """Whether the strips of a row tile it exactly: tap b of strip j is column j·kW + b, every
    column read once (a pooling window as wide as its stride, e.g. 2×2 with stride 2). The
    strip table is then the image itself, cut into pieces, and col2im needs no additions:
    for LeNet's two pooling layers, building the strip table takes about half the time of
    the tap-by-tap copies, and col2im about a quarter."""
    return win.dilation[1] == 1 and win.stride[1] == win.kernel[1] \
        and win.out_width * win.kernel[1] == win.width == win.padded_width


def _gather_windows(x: np.ndarray, win: Windows, pad_value: float = 0.0) -> np.ndarray:
    """im2col on arrays: ``(N, C, H, W)`` → ``(G, N·Ho·Wo, K·C/G)`` through the gather kernel."""
    cols = kernels.gather(strip_table(x, win, pad_value), win.index.reshape(-1))
    return cols.reshape(win.groups, win.batch * win.out_height * win.out_width, win.taps * win.group_channels)


def _add_windows(cols: np.ndarray, win: Windows) -> np.ndarray:
    """col2im on arrays: ``(G, N·Ho·Wo, K·C/G)`` → ``(N, C, H, W)`` through the index-add kernel."""
    g, n, h, w, cg = win.groups, win.batch, win.height, win.width, win.group_channels
    kw, left = win.kernel[1], win.padding[2]
    rows = np.zeros((win.pad_row + 1, kw * cg), dtype=cols.dtype)
    kernels.index_add(rows, win.index.reshape(-1), np.reshape(cols, (-1, kw * cg)))
    # Undo the strips: tap b of strip j is column j·sw + b·dw of the padded row. The padding
    # row and padding columns collected the gradients of taps that read padding: dropped.
    if _tiling(win):
        image = rows[:-1].reshape(g, n, h, w, cg)  # each pixel is in one strip: a view
    else:
        strips = rows[:-1].reshape(g, n, h, win.out_width, kw, cg)
        padded = np.zeros((g, n, h, win.padded_width, cg), dtype=cols.dtype)
        for b in range(kw):
            padded[:, :, :, _tap_columns(win, b)] += strips[..., b, :]
        image = padded[:, :, :, left:left + w]
    return image.transpose(1, 0, 4, 2, 3).reshape(n, win.channels, h, w)


def im2col(x, win: Windows, pad_value: float = 0.0):
    """:class:`Im2col` on a tensor, or the gather kernel on an array (a backward's first-order path)."""
    if type(x) is np.ndarray:
        return _gather_windows(x, win, pad_value)
    return Im2col.apply(x, win, pad_value)


def col2im(cols, win: Windows):
    """:class:`Col2im` on a tensor, or the index-add kernel on an array (a backward's first-order path)."""
    if type(cols) is np.ndarray:
        return _add_windows(cols, win)
    return Col2im.apply(cols, win)


class Im2col(Primitive):
    """Gather every window of ``x`` (N, C, H, W) into columns (G, N·L, K·C/G): im2col.

    ``cols[g, (n, i, j), (a, b, c)] = x[n, g·C/G + c, i·sh − top + a·dh, j·sw − left + b·dw]``,
    or ``pad_value`` where that position is outside the image. One call of the
    gather kernel with the cached index table: each output position looks up the
    kH strips (kernel rows) of its window, like an Embedding looks up words.

    VJP: x̄ = col2im(ȳ) - each pixel receives the sum of the gradients of every
    tap that read it (index-add); gradients of taps that read padding vanish.
    A linear map, so the VJP needs nothing saved, and :class:`Col2im` is its VJP
    at every order.
    """

    @staticmethod
    def forward(ctx, x, win, pad_value):
        ctx.win = win
        return _gather_windows(x, win, pad_value)

    @staticmethod
    def backward(ctx, grad):
        return col2im(grad, ctx.win), None, None


class Col2im(Primitive):
    """Sum columns (G, N·L, K·C/G) back into an image (N, C, H, W): col2im, the adjoint of :class:`Im2col`.

    ``y[n, g·C/G + c, h, w] = Σ cols[g, (n, i, j), (a, b, c)]`` over every
    (output position, tap) whose window puts tap (a, b) on pixel (h, w); taps on
    padding are dropped. One call of the index-add kernel (duplicates accumulate,
    as in an Embedding's backward), then the kW taps of each strip are added to
    their pixels.

    VJP: c̄ols = im2col(ȳ) with zero padding - a gather; so :class:`Im2col` is its VJP.
    """

    @staticmethod
    def forward(ctx, cols, win):
        ctx.win = win
        return _add_windows(cols, win)

    @staticmethod
    def backward(ctx, grad):
        return im2col(grad, ctx.win), None


class WindowMax(Primitive):
    """The largest tap of each window: ``y[p, c] = max_k x[p, k, c]`` for columns x (P, K, C).

    Max pooling's reduction. On ties the first tap wins, as in PyTorch's pooling.
    VJP: x̄[p, k, c] = ȳ[p, c] where tap k is that winner, else 0. The winner
    mask is piecewise constant in x, so it is kept from forward as a constant.
    """

    @staticmethod
    def forward(ctx, x):
        # A tournament over the taps, one (P, C) slice at a time: faster than a reduction
        # or an argmax over a short middle axis.
        taps = x.shape[1]
        dtype = np.int8 if taps < 128 else np.int64
        y, best = x[:, 0], np.zeros(x[:, 0].shape, dtype=dtype)
        for k in range(1, taps):
            later = x[:, k] > y  # strictly greater: the first of equal maxima keeps the win
            y = np.maximum(y, x[:, k])
            best += later * (dtype(k) - best)  # best = k where later
        ctx.winner = best[:, None, :] == np.arange(taps, dtype=dtype).reshape(1, -1, 1)
        return y if taps > 1 else y.copy()

    @staticmethod
    def backward(ctx, grad):
        return np.expand_dims(grad, 1) * ctx.winner


def pooling_divisor(size: int, kernel: int, stride: int, pad: int, out: int, count_include_pad: bool) -> np.ndarray:
    """Per output position along one axis, the number of taps average pooling divides by (PyTorch's rule).

    A window ``[start, start + kernel)`` is clipped to the padded axis
    ``[-pad, size + pad)``; with ``count_include_pad`` the clipped length counts
    (padding included), otherwise only the part inside ``[0, size)``.
    """
    start = np.arange(out) * stride - pad
    end = np.minimum(start + kernel, size + pad)
    if count_include_pad:
        return (end - start).astype(np.float64)
    return (np.minimum(end, size) - np.maximum(start, 0)).astype(np.float64)


def adaptive_pooling_matrix(size: int, out: int, dtype) -> np.ndarray:
    """The (out, size) averaging matrix of adaptive average pooling along one axis.

    Output i averages ``[floor(i·size/out), ceil((i + 1)·size/out))``, as PyTorch.
    Average pooling is separable, so the 2-D op is ``A_h · x · A_wᵀ``.
    """
    a = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, math.ceil((i + 1) * size / out)
        a[i, start:end] = 1.0 / (end - start)
    return a
