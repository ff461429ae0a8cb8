"""The op table for ``torch.nn.functional``'s activations (:mod:`minigrad.ops.activations`),
its divergence and margin losses, ``pad`` and ``normalize`` (compositions in
:mod:`minigrad.nn.functional`).

Samples keep away from the points where a function is not differentiable, so that finite
differences mean something: ELU, hardtanh and the other piecewise activations at their kinks
(hardswish and hardsigmoid at ±3, the shrinks at ±λ, threshold at its threshold; their values
there are checked against PyTorch in ``test_nn_layers.py``), softplus at its threshold,
the margin losses where the hinge turns on, L1-type norms at 0, the Poisson target at 1
(where the Stirling term is switched on) and a Gaussian variance below ``eps`` (PyTorch's
clamp there is invisible to the gradient; ``test_nn_losses.py`` checks it against PyTorch).
"""
from __future__ import annotations

import numpy as np
import torch.nn.functional as TF
from hypothesis import strategies as st

import minigrad.nn.functional as F
from minigrad.ops import activations as ACT
from minigrad.testing import strategies as mst
from opinfo import ErrorSample, OpInfo, Sample

A = mst.arrays
SHAPES = mst.shapes(0, 3, 1, 3)


def _f64(*shape):
    return np.zeros(shape)


def _i64(*shape):
    return np.zeros(shape, dtype=np.int64)


# -- activations ---------------------------------------------------------------------------
@st.composite
def softplus_samples(draw):
    beta = draw(st.sampled_from([1.0, 0.5, 2.0]))
    threshold = draw(st.sampled_from([20.0, 1.0, 3.0]))
    x = draw(A(SHAPES, min_value=-8, max_value=8, avoid=(threshold / beta,), gap=0.05))
    kwargs = {}
    if beta != 1.0 or draw(st.booleans()):
        kwargs["beta"] = beta
    if threshold != 20.0 or draw(st.booleans()):
        kwargs["threshold"] = threshold
    return Sample((x,), kwargs)


def smooth_samples():
    return A(SHAPES, min_value=-10, max_value=10).map(lambda x: Sample((x,)))


@st.composite
def elu_samples(draw):
    x = draw(A(SHAPES, avoid=(0.0,), gap=1e-3))
    return Sample((x,), {"alpha": draw(st.sampled_from([1.0, 0.5, 2.0, -0.5]))})


@st.composite
def hardtanh_samples(draw):
    lo, hi = draw(st.sampled_from([(-1.0, 1.0), (0.0, 2.0), (-0.5, 0.5), (1.0, 1.0)]))
    x = draw(A(SHAPES, avoid=(lo, hi), gap=1e-3))
    return Sample((x, lo, hi))


@st.composite
def kinked_at(draw, *points, low=-3.0, high=3.0):
    """One input away from ``points`` (the kinks), in [low, high]."""
    return Sample((draw(A(SHAPES, min_value=low, max_value=high, avoid=points, gap=1e-3)),))


@st.composite
def celu_samples(draw):
    x = draw(A(SHAPES, avoid=(0.0,), gap=1e-3))
    alpha = draw(st.sampled_from([1.0, 0.5, 2.0, -0.5]))
    return Sample((x,), {"alpha": alpha} if alpha != 1.0 or draw(st.booleans()) else {})


@st.composite
def shrink_samples(draw, lambdas):
    lambd = draw(st.sampled_from(lambdas))
    x = draw(A(SHAPES, avoid=(-lambd, lambd), gap=1e-3))
    return Sample((x,), {"lambd": lambd} if lambd != 0.5 or draw(st.booleans()) else {})


@st.composite
def threshold_samples(draw):
    threshold = draw(st.sampled_from([0.0, 0.5, -1.0]))
    value = draw(st.sampled_from([0.0, 20.0, -2.5]))
    x = draw(A(SHAPES, avoid=(threshold,), gap=1e-3))
    return Sample((x, threshold, value))


# -- losses ------------------------------------------------------------------------------
REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def kl_div_samples(draw):
    shape = draw(SHAPES)
    log_target = draw(st.booleans())
    x = draw(A(shape, min_value=-4.0, max_value=0.0))
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS + ["batchmean"]))}
    if log_target:
        kwargs["log_target"] = True
        return Sample((x, draw(A(shape, min_value=-4.0, max_value=0.0))), kwargs)
    if draw(st.booleans()):
        # Zero probabilities (0·log 0 = 0): the target's own gradient is 0/0 there in PyTorch, so
        # only the input's gradient is checked.
        y = np.asarray(draw(A(shape, min_value=0.0, max_value=1.0)) * draw(A(shape).map(lambda m: m > 0)))
        return Sample((x, y), kwargs, grad_args=(0,))
    return Sample((x, draw(A(shape, min_value=0.05, max_value=1.0))), kwargs)


@st.composite
def margin_ranking_samples(draw):
    shape = draw(mst.shapes(0, 2, 1, 4))
    margin = draw(st.sampled_from([0.0, 0.5, 1.0]))
    y = np.where(draw(A(shape)) > 0, 1.0, -1.0)
    x2 = draw(A(shape))
    d = draw(A(shape, avoid=(margin, -margin), gap=0.05))  # the hinge turns on at −y·d + margin = 0
    kwargs = {"reduction": draw(st.sampled_from(REDUCTIONS))}
    if margin or draw(st.booleans()):
        kwargs["margin"] = margin
    return Sample((np.asarray(x2 + d), x2, y), kwargs)


@st.composite
def cosine_embedding_samples(draw):
    batched = draw(st.booleans())
    n, dim = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shape = (n, dim) if batched else (dim,)
    x1 = draw(A(shape, avoid=(0.0,), gap=0.3))
    x2 = draw(A(shape, avoid=(0.0,), gap=0.3))
    y = np.asarray(draw(A(shape[:-1], min_value=-1.5, max_value=1.5)).round(), dtype=np.int64)  # -1, 0 (ignored) or 1
    margin = draw(st.sampled_from([0.1, -0.3, 0.5]))
    return Sample((x1, x2, y), {"margin": margin, "reduction": draw(st.sampled_from(REDUCTIONS))})


@st.composite
def triplet_samples(draw):
    shape = draw(st.sampled_from([(3,), (2, 3), (4, 2), (1, 1)]))
    p = draw(st.sampled_from([2.0, 1.0, 3.0]))
    swap = p != 1.0 and draw(st.booleans())  # with p = 1, |p − n| at 0 would be a kink
    # a − p, a − n and p − n all away from 0 (where a norm has a kink): the differences share
    # a sign per element and differ in size.
    a = draw(A(shape))
    sign = np.where(draw(A(shape)) > 0, 1.0, -1.0)
    d_pos = sign * draw(A(shape, min_value=0.1, max_value=2.0))
    d_neg = d_pos + sign * draw(A(shape, min_value=0.1, max_value=2.0))
    kwargs = {"margin": draw(st.sampled_from([1.0, 0.5, 2.0])), "p": p, "swap": swap,
              "reduction": draw(st.sampled_from(REDUCTIONS))}
    return Sample((a, np.asarray(a + d_pos), np.asarray(a + d_neg)), kwargs)


@st.composite
def poisson_nll_samples(draw):
    shape = draw(SHAPES)
    log_input = draw(st.booleans())
    full = draw(st.booleans())
    x = draw(A(shape) if log_input else A(shape, min_value=0.1, max_value=4.0))
    # With ``full``, PyTorch's gradient for a zero target is NaN (0·log 0 in the masked Stirling term;
    # minigrad's is 0): targets stay positive there.
    y = draw(A(shape, min_value=0.05 if full else 0.0, max_value=5.0, avoid=(1.0,), gap=0.05))
    kwargs = {"log_input": log_input, "full": full, "reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        kwargs["eps"] = 0.01
    return Sample((x, y), kwargs)


@st.composite
def gaussian_nll_samples(draw):
    shape = draw(mst.shapes(1, 3, 1, 3))
    x, y = draw(A(shape)), draw(A(shape))
    how = draw(st.sampled_from(["same", "short", "one", "number"]))
    if how == "number":
        var = draw(st.sampled_from([0.5, 2.0]))
    else:
        vshape = {"same": shape, "short": shape[:-1],
                  "one": shape[:-1] + (1,)}[how]
        var = draw(A(vshape, min_value=0.1, max_value=3.0))
    kwargs = {"full": draw(st.booleans()), "reduction": draw(st.sampled_from(REDUCTIONS))}
    if draw(st.booleans()):
        kwargs["eps"] = 0.05  # below every variance drawn: the clamp does not act here
    return Sample((x, y, var), kwargs)


# -- pad and normalize --------------------------------------------------------------------
@st.composite
def pad_samples(draw):
    mode = draw(st.sampled_from(["constant", "constant", "reflect", "replicate", "circular"]))
    if mode == "constant":
        shape = draw(mst.shapes(1, 3, 1, 4))
        dims = draw(st.integers(1, len(shape)))
    else:
        dims = draw(st.integers(1, 3))
        lead = draw(st.sampled_from([1, 2]))
        shape = tuple(draw(st.integers(1, 2)) for _ in range(lead)) + tuple(draw(st.integers(2, 4)) for _ in range(dims))
    pad = []
    for k in range(dims):
        n = shape[len(shape) - 1 - k]
        if mode == "constant":
            lo = -(n // 2)
            pad += [draw(st.integers(lo, 2)), draw(st.integers(lo, 2))]
        else:  # negative: cropped (PyTorch crops before it wraps in 'circular')
            lo = -1 if n >= 3 else 0
            pad += [draw(st.integers(lo, n - 1)), draw(st.integers(lo, n - 1))]
    x = draw(A(shape))
    kwargs = {"mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kwargs["value"] = draw(st.sampled_from([0.0, 1.5, -2.0]))
    return Sample((x, tuple(pad)), kwargs)


@st.composite
def normalize_samples(draw):
    shape = draw(mst.shapes(1, 3, 1, 4))
    p = draw(st.sampled_from([2.0, 1.0, 3.0, float("inf")]))
    x = draw(A(shape, avoid=(0.0,), gap=0.2, distinct=p == float("inf")))
    kwargs = {"p": p, "dim": draw(st.integers(-len(shape), len(shape) - 1))}
    if draw(st.booleans()):
        kwargs["eps"] = 1e-6
    return Sample((x,), kwargs)


OPS = [
    OpInfo("nn.softplus", F.softplus, TF.softplus, softplus_samples, (ACT.Softplus,)),
    OpInfo("nn.logsigmoid", F.logsigmoid, TF.logsigmoid, smooth_samples, (ACT.LogSigmoid,)),
    OpInfo("nn.silu", F.silu, TF.silu, smooth_samples, (ACT.SiLU,)),
    OpInfo("nn.mish", F.mish, TF.mish, smooth_samples, (ACT.Mish,)),
    OpInfo("nn.elu", F.elu, TF.elu, elu_samples, (ACT.ELU,)),
    OpInfo("nn.hardtanh", F.hardtanh, TF.hardtanh, hardtanh_samples, (ACT.Hardtanh,),
           error_samples=lambda: [
               ErrorSample((_f64(2), 1.0, -1.0), {}, ValueError, "min_val cannot be greater than max_val"),
               ErrorSample((np.zeros(2, dtype=np.uint8),), {}, RuntimeError, "unsigned type with negative limits"),
           ]),
    OpInfo("nn.relu6", F.relu6, TF.relu6, lambda: kinked_at(0.0, 6.0, low=-2.0, high=8.0),
           error_samples=lambda: [
               ErrorSample((np.zeros(2, dtype=bool),), {}, RuntimeError, "Bool inputs not supported for hardtanh"),
           ]),
    OpInfo("nn.selu", F.selu, TF.selu, lambda: kinked_at(0.0),
           error_samples=lambda: [
               ErrorSample((_i64(2),), {}, NotImplementedError, "\"elu_cpu\" not implemented for 'Long'"),
           ]),
    OpInfo("nn.celu", F.celu, TF.celu, celu_samples, (ACT.CELU,),
           error_samples=lambda: [
               ErrorSample((_f64(2), 0.0), {}, RuntimeError, "ZeroDivisionError: alpha cannot be 0 for CELU"),
           ]),
    OpInfo("nn.hardswish", F.hardswish, TF.hardswish, lambda: kinked_at(-3.0, 3.0, low=-5.0, high=5.0),
           (ACT.Hardswish,),
           error_samples=lambda: [
               ErrorSample((_i64(2),), {}, NotImplementedError, "\"hardswish_cpu\" not implemented for 'Long'"),
           ]),
    OpInfo("nn.hardsigmoid", F.hardsigmoid, TF.hardsigmoid, lambda: kinked_at(-3.0, 3.0, low=-5.0, high=5.0),
           (ACT.Hardsigmoid,),
           no_torch_second_order="PyTorch defines no derivative of hardsigmoid_backward",
           # PyTorch multiplies by 1/6 rounded to float32 in every dtype: its float64 slope is
           # 0.16666667163, 3e-8 from minigrad's 1/6.
           grad_rtol=1e-7,
           error_samples=lambda: [
               ErrorSample((_i64(2),), {}, NotImplementedError, "\"hardsigmoid_cpu\" not implemented for 'Long'"),
           ]),
    OpInfo("nn.softsign", F.softsign, TF.softsign, lambda: kinked_at(0.0, low=-10.0, high=10.0)),  # |x| at 0
    OpInfo("nn.tanhshrink", F.tanhshrink, TF.tanhshrink, smooth_samples),
    OpInfo("nn.softshrink", F.softshrink, TF.softshrink, lambda: shrink_samples([0.5, 0.0, 1.0, 2.0]),
           (ACT.Softshrink,),
           error_samples=lambda: [
               ErrorSample((_f64(2), -1.0), {}, RuntimeError,
                           r"lambda must be in range \[0, 1.79769e\+308\] for input dtype Double, but found -1"),
               ErrorSample((_i64(2),), {}, NotImplementedError, "\"softshrink_check\" not implemented for 'Long'"),
           ]),
    OpInfo("nn.hardshrink", F.hardshrink, TF.hardshrink, lambda: shrink_samples([0.5, 0.0, 1.0, -1.0]),
           (ACT.Hardshrink,),
           error_samples=lambda: [
               ErrorSample((_i64(2),), {}, NotImplementedError, "\"hardshrink_cpu\" not implemented for 'Long'"),
           ]),
    OpInfo("nn.threshold", F.threshold, TF.threshold, threshold_samples, (ACT.Threshold,),
           error_samples=lambda: [
               ErrorSample((np.zeros(2, dtype=bool), 0.0, 1.0), {}, NotImplementedError,
                           "\"threshold_cpu\" not implemented for 'Bool'"),
               ErrorSample((np.zeros(2, dtype=np.int8), 0, 300), {}, RuntimeError,
                           "value cannot be converted to type int8_t without overflow"),
               ErrorSample((np.zeros(2, dtype=np.float32), 1e300, 0.0), {}, RuntimeError,
                           "value cannot be converted to type float without overflow"),
           ]),
    OpInfo("nn.kl_div", F.kl_div, TF.kl_div, kl_div_samples,
           error_samples=lambda: [
               ErrorSample((_f64(2), _f64(2)), {"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
               ErrorSample((_f64(2), _i64(2)), {"reduction": "sum"}, RuntimeError, "kl_div: Integral inputs not supported."),
           ]),
    OpInfo("nn.margin_ranking_loss", F.margin_ranking_loss, TF.margin_ranking_loss, margin_ranking_samples,
           error_samples=lambda: [
               ErrorSample((_f64(3), _f64(3), _f64(1, 3)), {}, RuntimeError,
                           r"All input tensors should have same dimension but got sizes: input1: torch.Size\(\[3\]\), "
                           r"input2: torch.Size\(\[3\]\), target: torch.Size\(\[1, 3\]\)"),
           ]),
    OpInfo("nn.cosine_embedding_loss", F.cosine_embedding_loss, TF.cosine_embedding_loss, cosine_embedding_samples,
           error_samples=lambda: [
               ErrorSample((_f64(3, 2), _f64(3, 2), _f64(3, 1)), {}, RuntimeError, "0D or 1D target tensor expected"),
               ErrorSample((_f64(3), _f64(3, 2), _f64(3)), {}, RuntimeError,
                           r"1D target tensor expects 2D input tensors, but found inputs with sizes \[3\] and \[3, 2\]\."),
               ErrorSample((_f64(3, 2), _f64(4, 2), _f64(3)), {}, RuntimeError,
                           r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 0"),
           ]),
    OpInfo("nn.triplet_margin_loss", F.triplet_margin_loss, TF.triplet_margin_loss, triplet_samples,
           error_samples=lambda: [
               ErrorSample((_f64(3, 2), _f64(3, 2), _f64(2)), {}, RuntimeError,
                           "anchor 2D, positive 2D, and negative 1D inputs"),
               ErrorSample((_f64(3, 2), _f64(3, 2), _f64(3, 2)), {"margin": 0}, ValueError,
                           "margin must be greater than 0, got 0"),
           ]),
    OpInfo("nn.poisson_nll_loss", F.poisson_nll_loss, TF.poisson_nll_loss, poisson_nll_samples,
           error_samples=lambda: [
               ErrorSample((_f64(2), _f64(2)), {"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
           ]),
    OpInfo("nn.gaussian_nll_loss", F.gaussian_nll_loss, TF.gaussian_nll_loss, gaussian_nll_samples,
           error_samples=lambda: [
               ErrorSample((_f64(2, 3), _f64(2, 3), np.ones((3, 3))), {}, ValueError, "var is of incorrect size"),
               ErrorSample((_f64(2, 3), _f64(2, 3), -np.ones((2, 3))), {}, ValueError, "var has negative entry/entries"),
               ErrorSample((_f64(2, 3), _f64(2, 3), -1.0), {}, ValueError, "var has negative entry/entries"),
               ErrorSample((_f64(2, 3), _f64(2, 3), np.ones((2, 3))), {"reduction": "avg"}, ValueError, "avg is not valid"),
               ErrorSample((_f64(2, 3), _f64(2, 3), np.ones((2, 3), dtype=np.int64)), {}, RuntimeError,
                           "result type Float can't be cast to the desired output type long int"),
           ]),
    OpInfo("nn.pad", F.pad, TF.pad, pad_samples,
           error_samples=lambda: [
               ErrorSample((_f64(1, 2, 3), (1,)), {}, RuntimeError, "Padding length must be divisible by 2"),
               ErrorSample((_f64(2), (1, 1, 1, 1)), {}, RuntimeError,
                           "Padding length should be less than or equal to two times the input dimension but got "
                           "padding length 4 and input of dimension 1"),
               ErrorSample((_f64(1, 2, 3), (-2, -2)), {}, RuntimeError, "length must be non-negative"),
               ErrorSample((_f64(1, 2, 3), (1.5, 1)), {}, TypeError, "must be tuple of ints, but found element of type float"),
               ErrorSample((_f64(1, 2, 3), (1, 1)), {"mode": "foo"}, NotImplementedError, "Unrecognised padding mode foo"),
               ErrorSample((_f64(1, 2, 3), (3, 3)), {"mode": "reflect"}, RuntimeError,
                           r"Padding size should be less than the corresponding input dimension, but got: padding \(3, 3\) "
                           r"at dimension 2 of input \[1, 2, 3\]"),
               ErrorSample((_f64(3), (1, 1)), {"mode": "reflect"}, NotImplementedError,
                           "Padding size 2 is not supported for 1D input tensor."),
               ErrorSample((_f64(1, 2, 3), (1, 1)), {"mode": "reflect", "value": 2.0}, RuntimeError,
                           "Padding mode \"reflect\" doesn't take in value argument"),
               ErrorSample((_f64(1, 2, 3), (4, 3)), {"mode": "circular"}, RuntimeError,
                           "Padding value causes wrapping around more than once."),
           ]),
    OpInfo("nn.normalize", F.normalize, TF.normalize, normalize_samples,
           error_samples=lambda: [
               ErrorSample((_i64(3),), {"dim": 0}, RuntimeError,
                           "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Long"),
           ]),
]
