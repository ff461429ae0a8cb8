"""The op table for sliding-window ops: unfold/fold (im2col/col2im), convolutions, pooling, batch norm.

Shapes are drawn small (finite differences cost two forward calls per input
element) but cover every option: stride, padding (ints, tuples, 'same',
'valid'), dilation, groups (depthwise included), bias, ceil_mode,
count_include_pad. Max pooling draws distinct values so that no window has a
tie (where the derivative jumps); kernels never exceed the padded input.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st

import minigrad.nn.functional as F
from minigrad.ops.conv import Col2im, Im2col, WindowMax
from minigrad.testing import strategies as mst
from opinfo import ErrorSample, OpInfo, Sample

A = mst.arrays


def _f64(*shape):
    return np.random.default_rng(0).standard_normal(shape)


@st.composite
def _geometry(draw, nd=2, max_kernel=3, max_side=5, dilation=True, pool=False):
    """Kernel, stride, padding, dilation and an input size the padded kernel fits in.

    Pooling pads at most half the (undilated) kernel, as PyTorch requires."""
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    pad = tuple(draw(st.integers(0, k // 2 if pool else (d * (k - 1) + 1) // 2)) for k, d in zip(kernel, dil))
    size = tuple(draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max_side)) for k, d, p in zip(kernel, dil, pad))
    return kernel, stride, pad, dil, size


def _maybe_scalar(draw, values):
    """An int when every dim agrees and a coin says so, else the tuple: both spellings get tested."""
    if len(set(values)) == 1 and draw(st.booleans()):
        return values[0]
    return values


@st.composite
def unfold_samples(draw):
    kernel, stride, pad, dil, size = draw(_geometry())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    shape = ((n,) if draw(st.booleans()) else ()) + (c,) + size
    kwargs = {"kernel_size": _maybe_scalar(draw, kernel), "dilation": _maybe_scalar(draw, dil),
              "padding": _maybe_scalar(draw, pad), "stride": _maybe_scalar(draw, stride)}
    return Sample((draw(A(shape)),), kwargs)


@st.composite
def fold_samples(draw):
    kernel, stride, pad, dil, size = draw(_geometry())
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    blocks = [(s + 2 * p - d * (k - 1) - 1) // st_ + 1 for s, k, st_, p, d in zip(size, kernel, stride, pad, dil)]
    k = kernel[0] * kernel[1]
    shape = ((n,) if draw(st.booleans()) else ()) + (c * k, blocks[0] * blocks[1])
    kwargs = {"output_size": size, "kernel_size": kernel, "dilation": dil, "padding": pad, "stride": stride}
    return Sample((draw(A(shape)),), kwargs)


@st.composite
def conv_samples(draw, nd=2):
    kernel, stride, pad, dil, size = draw(_geometry(nd))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    if groups == 3:  # depthwise: one input channel per group
        cg = 1
    n = draw(st.integers(1, 2))
    shape = ((n,) if draw(st.booleans()) else ()) + (cg * groups,) + size
    mode = draw(st.sampled_from(["int", "int", "same", "valid"]))
    if mode == "same":
        stride = (1,) * nd
        padding = "same"
    elif mode == "valid":
        padding = "valid"
        # 'valid' is no padding: the kernel must fit the input itself.
        size = tuple(max(s, d * (k - 1) + 1) for s, k, d in zip(size, kernel, dil))
        shape = shape[:-nd] + size
    else:
        padding = _maybe_scalar(draw, pad)
    args = [draw(A(shape)), draw(A((og * groups, cg) + kernel))]
    if draw(st.booleans()):
        args.append(draw(A((og * groups,))))
    kwargs = {"stride": _maybe_scalar(draw, stride), "padding": padding, "dilation": _maybe_scalar(draw, dil),
              "groups": groups}
    return Sample(tuple(args), kwargs)


@st.composite
def conv_transpose_samples(draw, nd=2):
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dil = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    out_pad = tuple(draw(st.integers(0, s - 1)) for s in stride)
    size = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    # The output, (s − 1)·stride − 2·pad + dil·(k − 1) + out_pad + 1, must stay positive.
    pad = tuple(draw(st.integers(0, max(0, ((i - 1) * s + d * (k - 1) + op) // 2)))
                for i, s, d, k, op in zip(size, stride, dil, kernel, out_pad))
    groups = draw(st.sampled_from([1, 2]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    args = [draw(A((draw(st.integers(1, 2)), cg * groups) + size)), draw(A((cg * groups, og) + kernel))]
    if draw(st.booleans()):
        args.append(draw(A((og * groups,))))
    kwargs = {"stride": stride, "padding": pad, "output_padding": out_pad, "groups": groups, "dilation": dil}
    return Sample(tuple(args), kwargs)


@st.composite
def max_pool_samples(draw, nd=2):
    kernel, stride, pad, dil, size = draw(_geometry(nd, pool=True))
    # At least one dilated kernel long, so that no window reads padding only (its max would be -inf).
    size = tuple(max(s, d * (k - 1) + 1) for s, k, d in zip(size, kernel, dil))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": pad, "dilation": dil,
              "ceil_mode": draw(st.booleans())}
    return Sample((draw(A(shape, distinct=True, gap=1e-3)),), kwargs)


@st.composite
def avg_pool_samples(draw, nd=2):
    kernel, stride, pad, _, size = draw(_geometry(nd, dilation=False, pool=True))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) + size
    kwargs = {"kernel_size": kernel, "stride": stride, "padding": pad, "ceil_mode": draw(st.booleans()),
              "count_include_pad": draw(st.booleans())}
    if nd == 2 and draw(st.integers(0, 3)) == 0:
        kwargs["divisor_override"] = draw(st.integers(1, 5))
    return Sample((draw(A(shape)),), kwargs)


@st.composite
def adaptive_samples(draw, nd=2):
    size = tuple(draw(st.integers(1, 7)) for _ in range(nd))
    out = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    shape = ((draw(st.integers(1, 2)),) if draw(st.booleans()) else ()) + (draw(st.integers(1, 2)),) + size
    return Sample((draw(A(shape)),), {"output_size": out if nd == 2 else out[0]})


def batch_norm_train_op(x, weight=None, bias=None, eps=1e-5):
    return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)


def batch_norm_train_ref(x, weight=None, bias=None, eps=1e-5):
    return TF.batch_norm(x, None, None, weight, bias, training=True, eps=eps)


def batch_norm_eval_op(x, running_mean, running_var, weight, bias):
    return F.batch_norm(x, running_mean, running_var, weight, bias, training=False)


def batch_norm_eval_ref(x, running_mean, running_var, weight, bias):
    return TF.batch_norm(x, running_mean, running_var, weight, bias, training=False)


@st.composite
def batch_norm_samples(draw, training=True):
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(2, 3)), c) + draw(mst.shapes(0, 2, 1, 3))
    x = draw(A(shape, distinct=True, gap=0.05))  # distinct: the batch variance stays away from 0
    if training:
        args = (x,) + ((draw(A((c,))), draw(A((c,)))) if draw(st.booleans()) else ())
        return Sample(args, {"eps": draw(st.sampled_from([1e-5, 0.1]))})
    stats = (draw(A((c,))), draw(A((c,), min_value=0.5, max_value=2.0)))
    return Sample((x,) + stats + (draw(A((c,))), draw(A((c,)))), grad_args=(0, 3, 4))


# The three Primitives of minigrad.ops.conv (gather, index-add, window max) are core ops:
# op_table_core.py lists these entries with the core table.
CORE_OPS = [
    OpInfo("nn.unfold", F.unfold, TF.unfold, unfold_samples, (Im2col,),
           error_samples=lambda: [
               ErrorSample((_f64(1, 1, 3, 3), 4), {}, RuntimeError,
                           r"calculated shape of the array of sliding blocks as \(0, 0\)"),
               ErrorSample((_f64(1, 1, 3, 3), 2), {"padding": -1}, RuntimeError, "padding should be non-negative"),
               ErrorSample((_f64(3, 3), 2), {}, RuntimeError, r"Only 3D or 4D input Tensors are supported \(got 2D\)"),
               ErrorSample((_f64(1, 1, 3, 3), (2, 2, 2)), {}, RuntimeError, "expected kernel_size to be a single integer"),
           ]),
    OpInfo("nn.fold", F.fold, TF.fold, fold_samples, (Col2im,),
           error_samples=lambda: [
               ErrorSample((_f64(2, 7, 4), (3, 3), 2), {}, RuntimeError, "divisible by the product of kernel_size"),
               ErrorSample((_f64(2, 8, 3), (3, 3), 2), {}, RuntimeError,
                           r"calculated number of sliding blocks 2 \* 2 = 4, but got input.size\(2\)=3"),
           ]),
    OpInfo("nn.max_pool2d", F.max_pool2d, TF.max_pool2d, max_pool_samples, (Im2col, WindowMax),
           error_samples=lambda: [
               ErrorSample((_f64(1, 1, 5, 5), 3), {"padding": 2}, RuntimeError,
                           "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3"),
               ErrorSample((_f64(1, 1, 2, 2), 3), {}, RuntimeError, "Output size is too small"),
               ErrorSample((_f64(5, 5), 2), {}, RuntimeError, "Expected 3D or 4D"),
           ]),
]

OPS = [
    OpInfo("nn.conv2d", F.conv2d, TF.conv2d, conv_samples,
           error_samples=lambda: [
               ErrorSample((_f64(1, 2, 4, 4), _f64(3, 2, 5, 5)), {}, RuntimeError,
                           r"padded input size per channel: \(4 x 4\). Kernel size: \(5 x 5\)"),
               ErrorSample((_f64(1, 2, 4, 4), _f64(3, 2, 3, 3)), {"dilation": 2}, RuntimeError,
                           r"Kernel size: \(5 x 5\). Kernel size can't be greater than actual input size"),
               ErrorSample((_f64(1, 4, 5, 5), _f64(6, 4, 3, 3)), {"groups": 3}, RuntimeError,
                           r"Given groups=3, weight of size \[6, 4, 3, 3\], expected input\[1, 4, 5, 5\] to have 12 channels"),
               ErrorSample((_f64(1, 3, 5, 5), _f64(4, 1, 3, 3)), {"groups": 3}, RuntimeError,
                           "expected weight to be divisible by 3 at dimension 0"),
               ErrorSample((_f64(5, 5), _f64(1, 1, 3, 3)), {}, RuntimeError,
                           r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: \[5, 5\]"),
               ErrorSample((_f64(1, 1, 5, 5), _f64(1, 1, 3, 3)), {"padding": -1}, RuntimeError, "negative padding is not supported"),
               ErrorSample((_f64(1, 1, 5, 5), _f64(1, 1, 3, 3)), {"stride": 0}, RuntimeError, "non-positive stride"),
               ErrorSample((_f64(1, 1, 5, 5), _f64(1, 1, 3, 3)), {"padding": "same", "stride": 2}, RuntimeError,
                           "padding='same' is not supported for strided convolutions"),
               ErrorSample((_f64(1, 1, 5, 5), _f64(1, 1, 3, 3)), {"padding": "full"}, RuntimeError, "Invalid padding string: 'full'"),
               ErrorSample((_f64(1, 1, 5, 5), _f64(2, 1, 3, 3), _f64(3)), {}, RuntimeError,
                           "expected bias to be 1-dimensional with 2 elements, but got bias of size \\[3\\]"),
               ErrorSample((_f64(1, 1, 5, 5).astype(np.float32), _f64(1, 1, 3, 3)), {}, RuntimeError, "should be the same"),
           ]),
    OpInfo("nn.conv1d", F.conv1d, TF.conv1d, lambda: conv_samples(nd=1),
           error_samples=lambda: [
               ErrorSample((_f64(2, 1, 5, 5), _f64(1, 1, 3)), {}, RuntimeError,
                           r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"),
               ErrorSample((_f64(1, 1, 5), _f64(1, 1, 3)), {"stride": (1, 1)}, RuntimeError,
                           r"expected stride to be a single integer value or a list of 1 values"),
           ]),
    OpInfo("nn.conv_transpose2d", F.conv_transpose2d, TF.conv_transpose2d, conv_transpose_samples,
           error_samples=lambda: [
               ErrorSample((_f64(1, 2, 3, 3), _f64(2, 1, 3, 3)), {"output_padding": 1}, RuntimeError,
                           "output padding must be smaller than either stride or dilation"),
               ErrorSample((_f64(1, 3, 3, 3), _f64(2, 1, 3, 3)), {}, RuntimeError,
                           r"Given transposed=1, weight of size \[2, 1, 3, 3\], expected input\[1, 3, 3, 3\] to have 2 channels"),
           ]),
    OpInfo("nn.max_pool1d", F.max_pool1d, TF.max_pool1d, lambda: max_pool_samples(nd=1)),
    OpInfo("nn.avg_pool2d", F.avg_pool2d, TF.avg_pool2d, avg_pool_samples,
           error_samples=lambda: [
               ErrorSample((_f64(1, 1, 5, 5), 3), {"padding": 2}, RuntimeError, "pad should be at most half"),
               ErrorSample((_f64(1, 1, 5, 5), 2), {"divisor_override": 0}, RuntimeError, "divisor must be not zero"),
           ]),
    OpInfo("nn.adaptive_avg_pool2d", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, adaptive_samples,
           error_samples=lambda: [ErrorSample((_f64(5, 5), 2), {}, RuntimeError, "Expected 3D or 4D tensor")]),
    OpInfo("nn.batch_norm_train", batch_norm_train_op, batch_norm_train_ref, batch_norm_samples,
           error_samples=lambda: [
               ErrorSample((_f64(1, 4),), {}, ValueError, "Expected more than 1 value per channel when training"),
           ],
           float32_rtol=1e-3, float32_atol=1e-4),
    OpInfo("nn.batch_norm_eval", batch_norm_eval_op, batch_norm_eval_ref, lambda: batch_norm_samples(training=False),
           error_samples=lambda: [
               ErrorSample((_f64(2, 4), _f64(3), _f64(3), None, None), {}, RuntimeError, "running_mean should contain 4 elements not 3"),
           ]),
]
