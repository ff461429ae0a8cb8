"""Convolutions, and the unfold/fold pair they are built from.

A convolution shares one small kernel across every position of an image: each
output pixel is the same affine map of the window of input pixels under it. In
minigrad that is two steps (see :mod:`minigrad.ops.conv`):

1. **im2col** - gather every window into a row of columns (the gather kernel,
   an Embedding lookup whose rows are pixels);
2. one **matrix product** of those columns with the flattened kernels, as a
   ``Linear`` layer applied at every position.

Its backward runs the same two kernels the other way round: the matrix
product's VJP, then **col2im** (index-add) to send each window's gradient back
to the pixels it read. A transposed convolution is the same pieces in reverse
order. Layouts follow PyTorch: ``(N, C, H, W)`` in and out (``(N, C, L)`` in
1-D); channels-last is used only inside.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad.autograd.function import rename_node
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.ops.layers import Linear as _Linear
from minigrad.ops.conv import Col2im, Im2col, windows
from minigrad.ops.conv import output_size as _output_size
from minigrad.tensor import Tensor

__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold",
]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, n: int, name: str, op: str = "convolution") -> tuple:
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints (PyTorch's message otherwise)."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {n} values to match the "
            f"{op} dimensions, but got {name}={list(values)}"
        )
    return values


def _size(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _float_operands(input, weight, name: str) -> None:
    for t, what in ((input, "input"), (weight, "weight")):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(t).__name__}")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"Input type ({input.dtype}) and weight type ({weight.dtype}) should be the same"
        )
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{name}(): minigrad convolves floating-point tensors only, got {input.dtype}")


def _conv_padding(padding, kernel, stride, dilation, nd: int):
    """``(top, bottom, left, right)`` from an int, a tuple, 'valid' or 'same' (extra padding goes last, as PyTorch)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        pads = [0, 0] * (2 - nd)
        for k, d in zip(kernel, dilation):
            total = d * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    p = _tuple(padding, nd, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError("negative padding is not supported")
    p = (0,) * (2 - nd) + p
    return (p[0], p[0], p[1], p[1])


def _common_checks(name, nd, input, weight, weight_layout, stride, dilation, groups):
    """The checks convolutions and transposed convolutions share, in PyTorch's order and words.

    Returns the batched input (an unbatched one gets a batch of 1), whether it was batched,
    and stride and dilation as nd-tuples.
    """
    _float_operands(input, weight, name)
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but got input of size: "
            f"{_size(input.shape)}"
        )
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"{name}(): weight should have {nd + 2} dimensions ({weight_layout}, *kernel_size), "
            f"got size {_size(weight.shape)}"
        )
    batched = input.ndim == nd + 2
    if not batched:
        input = input.unsqueeze(0)
    stride = _tuple(stride, nd, "stride")
    dilation = _tuple(dilation, nd, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    return input, batched, stride, dilation


def _conv_nd(name, nd, input, weight, bias, stride, padding, dilation, groups):
    """Check the arguments as PyTorch does, then run the 2-D convolution (1-D inputs get a height of 1)."""
    input, batched, stride, dilation = _common_checks(
        name, nd, input, weight, "out_channels, in_channels/groups", stride, dilation, groups)
    kernel = tuple(weight.shape[2:])
    pads = _conv_padding(padding, kernel, stride, dilation, nd)
    out_channels, c_in = weight.shape[0], input.shape[1]
    if out_channels % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
            f"weight of size {_size(weight.shape)} instead"
        )
    if weight.shape[1] * groups != c_in:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {_size(weight.shape)}, expected input{_size(input.shape)} "
            f"to have {weight.shape[1] * groups} channels, but got {c_in} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"Given weight of size {_size(weight.shape)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {_size(bias.shape)} instead"
        )
    spatial = input.shape[2:]
    padded = [s + pads[2 * i + 2 * (2 - nd)] + pads[2 * i + 1 + 2 * (2 - nd)] for i, s in enumerate(spatial)]
    dilated = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p < k for p, k in zip(padded, dilated)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
            f"({' x '.join(map(str, dilated))}). Kernel size can't be greater than actual input size"
        )
    if nd == 1:
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation, kernel = (1,) + stride, (1,) + dilation, (1,) + kernel
    out = _conv2d(input, weight, bias, kernel, stride, pads, dilation, groups)
    if nd == 1:
        out = out.squeeze(2)
    # PyTorch's convolution is one node; minigrad's is im2col, a product and a permute.
    return rename_node(out, "ConvolutionBackward0") if batched else out.squeeze(0)


def _conv2d(input, weight, bias, kernel, stride, pads, dilation, groups):
    """im2col (gather), one batched matrix product per group, back to NCHW, plus bias."""
    n, c, h, w = input.shape
    o = weight.shape[0]
    cg, og, k = c // groups, o // groups, kernel[0] * kernel[1]
    win = windows(n, c, h, w, kernel, stride, pads, dilation, groups)
    cols = Im2col.apply(input, win, 0.0)  # (G, N·L, K·C/G), taps-major like the kernel rows below
    ho, wo = win.out_height, win.out_width
    if groups == 1:
        # A Linear layer applied at every position: one fused op, bias included.
        rows = _Linear.apply(cols.reshape(n * ho * wo, k * c), weight.reshape(o, c, k).permute(0, 2, 1)
                                    .reshape(o, k * c), bias)
        return rows.reshape(n, ho, wo, o).permute(0, 3, 1, 2)  # NCHW, laid out channels-last
    kernels_ = weight.reshape(groups, og, cg, k).permute(0, 3, 2, 1).reshape(groups, k * cg, og)
    out = cols @ kernels_  # (G, N·L, O/G): one matrix product per group
    out = out.reshape(groups, n, ho, wo, og).permute(1, 0, 4, 2, 3).reshape(n, o, ho, wo)
    if bias is not None:
        out = out + bias.reshape(o, 1, 1)
    return out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """1-D convolution (cross-correlation, as in PyTorch) of ``(N, C_in, L)`` with ``(C_out, C_in/groups, k)``.

    The 2-D convolution of :func:`conv2d` with a height of 1; see there.
    """
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """2-D convolution (cross-correlation, as in PyTorch): im2col by gather, then a matrix product.

    ``y[n, o, i, j] = b[o] + Σ_{c, a, b'} w[o, c, a, b'] · x[n, g·C/G + c, i·sh − ph + a·dh, j·sw − pw + b'·dw]``
    (g the group of channel o, zero outside the image). The VJP is that of the
    matrix product followed by col2im (index-add); see :class:`minigrad.ops.conv.Im2col`.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_out, C_in/groups, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, dilation : int or tuple of 2 ints, default 1
    padding : int, tuple of 2 ints, 'valid' or 'same', default 0
        Zero padding on both sides; 'same' keeps H and W (stride 1 only; an odd
        total goes to the bottom/right, as PyTorch).
    groups : int, default 1
        Split the channels into ``groups`` independent convolutions (``groups = C_in``: depthwise).

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
        ``H_out = ⌊(H + 2·ph − dh·(kH − 1) − 1)/sh⌋ + 1``, likewise W_out.

    Raises
    ------
    RuntimeError
        PyTorch's errors: wrong ndim, channels not matching ``weight`` and ``groups``,
        negative padding, non-positive stride/dilation/groups, a kernel larger than
        the padded input, a bias of the wrong size, mixed dtypes.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> x = minigrad.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.conv2d(x, minigrad.ones(1, 1, 2, 2), stride=2)
    tensor([[[[10., 18.],
              [42., 50.]]]])
    """
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(name, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    input, batched, stride, dilation = _common_checks(
        name, nd, input, weight, "in_channels, out_channels/groups", stride, dilation, groups)
    padding = _tuple(padding, nd, "padding")
    output_padding = _tuple(output_padding, nd, "output_padding")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        names = ("height", "width")[2 - nd:]
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(f"output_padding_{a}: {v}" for a, v in zip(names, output_padding)) + " "
            + " ".join(f"stride_{a}: {v}" for a, v in zip(names, stride)) + " "
            + " ".join(f"dilation_{a}: {v}" for a, v in zip(names, dilation))
        )
    if any(op >= s for op, s in zip(output_padding, stride)):
        raise NotImplementedError(f"{name}(): minigrad supports output_padding < stride only")
    c_in = input.shape[1]
    if weight.shape[0] != c_in:
        raise RuntimeError(
            f"Given transposed=1, weight of size {_size(weight.shape)}, expected input{_size(input.shape)} "
            f"to have {weight.shape[0]} channels, but got {c_in} channels instead"
        )
    if c_in % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
            f"weight of size {_size(weight.shape)} instead"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"Given transposed=1, weight of size {_size(weight.shape)}, expected bias to be 1-dimensional "
            f"with {out_channels} elements, but got bias of size {_size(bias.shape)} instead"
        )
    kernel = tuple(weight.shape[2:])
    out_sizes = [(s - 1) * st - 2 * p + d * (k - 1) + op + 1
                 for s, st, p, d, k, op in zip(input.shape[2:], stride, padding, dilation, kernel, output_padding)]
    if any(s <= 0 for s in out_sizes):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, input.shape[2:]))}). Calculated output size "
            f"per channel: ({' x '.join(map(str, out_sizes))}). Output size is too small"
        )
    if nd == 1:
        input, weight = input.unsqueeze(2), weight.unsqueeze(2)
        stride, dilation, kernel, padding, out_sizes = (1,) + stride, (1,) + dilation, (1,) + kernel, (0,) + padding, [1] + out_sizes
    out = _conv_transpose2d(input, weight, bias, kernel, stride, padding, dilation, groups, out_sizes)
    if nd == 1:
        out = out.squeeze(2)
    return out if batched else out.squeeze(0)


def _conv_transpose2d(input, weight, bias, kernel, stride, padding, dilation, groups, out_sizes):
    """The adjoint of :func:`_conv2d`: a matrix product per group, then col2im (index-add), plus bias."""
    n, c_in, h, w = input.shape
    cg_in, og = c_in // groups, weight.shape[1]
    k = kernel[0] * kernel[1]
    win = windows(n, og * groups, out_sizes[0], out_sizes[1], kernel, stride,
                  (padding[0], padding[0], padding[1], padding[1]), dilation, groups)
    rows = input.reshape(n, groups, cg_in, h * w).permute(1, 0, 3, 2).reshape(groups, n * h * w, cg_in)
    kernels_ = weight.reshape(groups, cg_in, og, k).permute(0, 1, 3, 2).reshape(groups, cg_in, k * og)
    out = Col2im.apply(rows @ kernels_, win)  # each input pixel spreads its kernel-weighted copy over a window
    if bias is not None:
        out = out + bias.reshape(og * groups, 1, 1)
    return out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1):
    """1-D transposed convolution; :func:`conv_transpose2d` with a height of 1."""
    return _conv_transpose_nd("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding,
                              groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1, dilation=1):
    """2-D transposed convolution: the adjoint of :func:`conv2d` as a map of its input.

    Each input pixel multiplies its kernel and adds the result into the output
    window it maps to: a matrix product, then col2im (the index-add kernel).
    So the gather and index-add of :func:`conv2d` swap roles.

    Parameters
    ----------
    input : Tensor, shape (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor, shape (C_in, C_out/groups, kH, kW)
    bias : Tensor, shape (C_out,), optional
    stride, padding, dilation : int or tuple of 2 ints
    output_padding : int or tuple of 2 ints, default 0
        Extra rows/columns at the bottom/right; must be smaller than ``stride``
        (PyTorch also allows ``stride ≤ output_padding < dilation``; minigrad does not).
    groups : int, default 1

    Returns
    -------
    Tensor, shape (N, C_out, H_out, W_out)
        ``H_out = (H − 1)·sh − 2·ph + dh·(kH − 1) + output_padding + 1``.
    """
    return _conv_transpose_nd("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding,
                              groups, dilation)


def _fold_args(kernel_size, dilation, padding, stride):
    kernel = _tuple(kernel_size, 2, "kernel_size", "im2col")
    dilation = _tuple(dilation, 2, "dilation", "im2col")
    padding = _tuple(padding, 2, "padding", "im2col")
    stride = _tuple(stride, 2, "stride", "im2col")
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} "
                           f"stride_width: {stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    return kernel, dilation, padding, stride


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding windows: ``(N, C, H, W)`` → ``(N, C·kH·kW, L)`` (im2col in PyTorch's layout).

    Column ``l`` holds the window at output position ``l`` (row-major over the
    ``L = H_out·W_out`` positions), channel-major then kernel rows. It is
    :class:`minigrad.ops.conv.Im2col` (the gather kernel) followed by a
    transpose to PyTorch's layout; the VJP is :func:`fold`'s index-add.

    Parameters
    ----------
    input : Tensor, shape (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C·kH·kW, L)

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.unfold(minigrad.arange(9.0).reshape(1, 1, 3, 3), 2)
    tensor([[[0., 1., 3., 4.],
             [1., 2., 4., 5.],
             [3., 4., 6., 7.],
             [4., 5., 7., 8.]]])
    """
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    kernel, dilation, padding, stride = _fold_args(kernel_size, dilation, padding, stride)
    batched = input.ndim == 4
    if not batched:
        input = input.unsqueeze(0)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"unfold(): minigrad unfolds floating-point tensors only, got {input.dtype}")
    n, c, h, w = input.shape
    blocks = [_output_size(s, k, st, p, p, d) for s, k, st, p, d in zip((h, w), kernel, stride, padding, dilation)]
    if any(b < 1 for b in blocks):
        raise RuntimeError(
            f"Given input with spatial size ({h}, {w}), kernel_size=({kernel[0]}, {kernel[1]}), dilation="
            f"({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), calculated shape of the array "
            f"of sliding blocks as ({blocks[0]}, {blocks[1]}), but its components must be at least one."
        )
    win = windows(n, c, h, w, kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation)
    k, l = kernel[0] * kernel[1], blocks[0] * blocks[1]
    out = Im2col.apply(input, win, 0.0).reshape(n, l, k, c).permute(0, 3, 2, 1).reshape(n, c * k, l)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding windows back into an image: ``(N, C·kH·kW, L)`` → ``(N, C, H, W)`` (col2im).

    The adjoint of :func:`unfold`: every column entry is added to the pixel its
    window position and tap point at, overlapping windows summed
    (:class:`minigrad.ops.conv.Col2im`, the index-add kernel). The VJP is :func:`unfold`.

    Parameters
    ----------
    input : Tensor, shape (N, C·kH·kW, L) or (C·kH·kW, L)
    output_size : int or tuple of 2 ints
        ``(H, W)`` of the image.
    kernel_size, dilation, padding, stride : int or tuple of 2 ints

    Returns
    -------
    Tensor, shape (N, C, H, W)
    """
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero "
            f"dimensions for input, but got: {_size(input.shape)}"
        )
    osize = _tuple(output_size, 2, "output_size", "col2im")
    kernel, dilation, padding, stride = _fold_args(kernel_size, dilation, padding, stride)
    batched = input.ndim == 3
    if not batched:
        input = input.unsqueeze(0)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"fold(): minigrad folds floating-point tensors only, got {input.dtype}")
    n, ck, l = input.shape
    k = kernel[0] * kernel[1]
    if ck % k:
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
            f"input.size(1)={ck} and kernel_size=({kernel[0]}, {kernel[1]})."
        )
    blocks = [_output_size(s, kk, st, p, p, d) for s, kk, st, p, d in zip(osize, kernel, stride, padding, dilation)]
    if blocks[0] < 1 or blocks[1] < 1 or blocks[0] * blocks[1] != l:
        raise RuntimeError(
            f"Given output_size=({osize[0]}, {osize[1]}), kernel_size=({kernel[0]}, {kernel[1]}), dilation="
            f"({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), stride=({stride[0]}, "
            f"{stride[1]}), expected size of input's dimension 2 to match the calculated number of sliding "
            f"blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)={l}."
        )
    c = ck // k
    win = windows(n, c, osize[0], osize[1], kernel, stride, (padding[0], padding[0], padding[1], padding[1]), dilation)
    cols = input.reshape(n, c, k, l).permute(0, 3, 2, 1).reshape(1, n * l, k * c)
    out = Col2im.apply(cols, win)
    return out if batched else out.squeeze(0)


# -- modules ------------------------------------------------------------------------------
class _ConvNd(Module):
    """Shared constructor, initialisation and repr of the convolution modules."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                 padding_mode, output_padding=0, dtype=None) -> None:
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in _tuple(stride, nd, "stride")):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode='{padding_mode}'"
            )
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"padding_mode='{padding_mode}' is not supported by minigrad; only 'zeros' is"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, nd, "kernel_size")
        self.stride = _tuple(stride, nd, "stride")
        self.padding = padding if isinstance(padding, str) else _tuple(padding, nd, "padding")
        self.dilation = _tuple(dilation, nd, "dilation")
        self.output_padding = _tuple(output_padding, nd, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        self.transposed = self._transposed
        dt = np.dtype(dtype or np.float32)
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_channels,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's: U(±1/√fan_in) for both, fan_in = weight.size(1)·∏kernel.
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)``; see :class:`Conv2d` (the same with a height of 1)."""

    _nd = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype)

    def forward(self, input):
        return conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution: one kernel per output channel, shared across every position of the image.

    Where a :class:`~minigrad.nn.Linear` layer on a flattened image learns a
    separate weight for every pixel, a convolution learns a small
    ``kH × kW`` window of weights and slides it over the image, so a pattern
    learned in one place is recognised everywhere. Computed as im2col (the
    gather kernel) and a matrix product; see :func:`minigrad.nn.functional.conv2d`.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of 2 ints
    stride, dilation : int or tuple, default 1
    padding : int, tuple, 'valid' or 'same', default 0
    groups : int, default 1
        Both channel counts must be divisible by it; ``groups = in_channels`` is a depthwise convolution.
    bias : bool, default True
    padding_mode : str, default 'zeros'
        The only mode minigrad implements ('reflect', 'replicate', 'circular' raise NotImplementedError).
    dtype : dtype, optional
        float32 unless given.

    Attributes
    ----------
    weight : Parameter, shape (out_channels, in_channels/groups, kH, kW)
        U(±1/√fan_in), fan_in = in_channels/groups·kH·kW (PyTorch's ``kaiming_uniform_(a=√5)``).
    bias : Parameter, shape (out_channels,), or None
        U(±1/√fan_in).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
    >>> conv(minigrad.ones(2, 1, 8, 8)).shape
    minigrad.Size([2, 4, 8, 8])
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, dtype=dtype)

    def forward(self, input):
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ConvTranspose1d(_ConvNd):
    """1-D transposed convolution; see :class:`ConvTranspose2d`."""

    _nd = 1
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype=dtype)

    def forward(self, input):
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                self.groups, self.dilation)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution, the adjoint of :class:`Conv2d` (upsampling by a learned kernel).

    Computed as a matrix product and col2im (the index-add kernel): the two
    kernels of :class:`Conv2d` with their roles swapped. See
    :func:`minigrad.nn.functional.conv_transpose2d`.

    Attributes
    ----------
    weight : Parameter, shape (in_channels, out_channels/groups, kH, kW)
    bias : Parameter, shape (out_channels,), or None
    """

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, output_padding, dtype=dtype)

    def forward(self, input):
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, self.output_padding,
                                self.groups, self.dilation)


class Unfold(Module):
    """Extract sliding windows as columns; see :func:`minigrad.nn.functional.unfold`."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Sum columns of sliding windows back into an image; see :func:`minigrad.nn.functional.fold`."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
