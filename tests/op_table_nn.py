"""The op table for the fused layers, losses and embedding bags (``minigrad.ops.layers``,
``minigrad.ops.losses``, ``minigrad.ops.embedding``) and the functional forms in ``minigrad.nn.functional``.

Samples keep away from kinks (leaky_relu at 0, L1 at d = 0, SmoothL1/Huber at
|d| = β), from ties (embedding_bag max) and from all-ignored targets, so that
finite differences are meaningful. Options that modify the weight (``max_norm``)
or give sparse gradients are tested in ``test_nn_embedding.py`` instead.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
import minigrad.nn.functional as F
from minigrad.ops import activations, attention, layers, losses
from minigrad.ops.embedding import Embedding, EmbeddingBagMax, EmbeddingBagSum
from minigrad.testing import strategies as mst
from opinfo import ErrorSample, OpInfo, Sample

A = mst.arrays
I64 = np.int64


def _ints(shape, lo, hi):
    return hnp.arrays(I64, shape, elements=st.integers(lo, hi))


# -- layers ------------------------------------------------------------------------------
@st.composite
def linear_samples(draw):
    lead = draw(mst.shapes(0, 2, 1, 3))
    fin, fout = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = draw(A(lead + (fin,)))
    w = draw(A((fout, fin)))
    if draw(st.booleans()):
        return Sample((x, w, draw(A((fout,)))))
    return Sample((x, w))


@st.composite
def leaky_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 3), avoid=(0.0,), gap=1e-3))
    return Sample((x,), {"negative_slope": draw(st.sampled_from([0.01, 0.2, -0.5, 1.5]))})


@st.composite
def gelu_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 3), min_value=-5, max_value=5))
    return Sample((x,), {"approximate": draw(st.sampled_from(["none", "tanh"]))})


def _dropout_mask(seed, p, shape):
    """The mask minigrad's dropout draws after ``manual_seed(seed)`` (kept next to the op below)."""
    keep = np.random.default_rng(seed).random(shape) >= p
    return keep / (1.0 - p)


def dropout_op(x, p, seed):
    minigrad.manual_seed(seed)
    return F.dropout(x, p)


def dropout_ref(x, p, seed):
    return x * torch.tensor(_dropout_mask(seed, p, tuple(x.shape)), dtype=x.dtype)


@st.composite
def dropout_samples(draw):
    x = draw(A(mst.shapes(0, 3, 1, 4)))
    return Sample((x, draw(st.sampled_from([0.0, 0.2, 0.5, 0.9])), draw(st.integers(0, 1000))))


@st.composite
def layer_norm_samples(draw):
    norm = draw(mst.shapes(1, 2, 2, 4))
    lead = draw(mst.shapes(0, 2, 1, 3))
    x = draw(A(lead + norm, distinct=True, gap=0.05))
    args = [x, norm]
    affine = draw(st.sampled_from(["none", "weight", "both"]))
    if affine != "none":
        args.append(draw(A(norm)))
    if affine == "both":
        args.append(draw(A(norm)))
    return Sample(tuple(args), {"eps": draw(st.sampled_from([1e-5, 0.1]))})


@st.composite
def attention_samples(draw):
    """Causal, boolean (rows may be all masked) and float masks (differentiated, finite here:
    an entry of −inf has no finite difference; the tests of nn.transformer add those)."""
    lead = draw(st.sampled_from([(), (2,), (2, 1)]))
    length, source, e, ev = (draw(st.integers(1, 3)) for _ in range(4))
    args = (draw(A(lead + (length, e))), draw(A(lead + (source, e))), draw(A(lead + (source, ev))))
    kwargs = {"scale": draw(st.sampled_from([None, 0.7]))}
    kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    if kind == "causal":
        kwargs["is_causal"] = True
    elif kind == "bool":
        args += (draw(hnp.arrays(np.bool_, (length, source))),)
    elif kind == "float":
        args += (draw(A((length, source))),)
    return Sample(args, kwargs)


def attention_ref(*args, **kwargs):
    """PyTorch's math backend: its fused CPU kernel has no second derivative."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH):
        return TF.scaled_dot_product_attention(*args, **kwargs)


# -- lookups ----------------------------------------------------------------------------------
@st.composite
def embedding_samples(draw, options=False):
    """Lookups; with ``options``, padding_idx / scale_grad_by_freq, which change the gradient
    on purpose (it is not the derivative then), so those entries skip finite differences."""
    v, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx = draw(_ints(draw(st.sampled_from([(), (0,), (4,), (2, 3)])), 0, v - 1))
    kwargs = {}
    if not options:
        return Sample((idx, draw(A((v, d)))), kwargs)
    if draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(-v, v - 1))
    if draw(st.booleans()):
        kwargs["scale_grad_by_freq"] = True
    return Sample((idx, draw(A((v, d)))), kwargs)


@st.composite
def _bags(draw, v):
    n = draw(st.integers(0, 7))
    idx = draw(_ints((n,), 0, v - 1))
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    last = draw(st.booleans())
    offsets = np.array([0] + cuts + ([n] if last else []), dtype=I64)
    return idx, offsets, last


@st.composite
def embedding_bag_samples(draw, options=False):
    v, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    w = draw(A((v, d)))
    kwargs = {"mode": draw(st.sampled_from(["sum", "mean"]))}
    if options and draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(0, v - 1))
    # (scale_grad_by_freq is compared with torch's Embedding in test_nn_embedding.py:
    # torch 2.13's embedding_bag scales some rows by another row's count)
    if draw(st.booleans()):
        return Sample((draw(_ints(draw(mst.shapes(2, 2, 1, 3)), 0, v - 1)), w), kwargs)
    idx, offsets, last = draw(_bags(v))
    return Sample((idx, w, offsets), dict(kwargs, include_last_offset=last))


def bag_psw_op(idx, w, offsets, psw, **kw):
    return F.embedding_bag(idx, w, offsets, mode="sum", per_sample_weights=psw, **kw)


def bag_psw_ref(idx, w, offsets, psw, **kw):
    return TF.embedding_bag(idx, w, offsets, mode="sum", per_sample_weights=psw, **kw)


@st.composite
def embedding_bag_psw_samples(draw):
    v, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    idx, offsets, last = draw(_bags(v))
    kwargs = {"include_last_offset": last}
    if draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(0, v - 1))
    return Sample((idx, draw(A((v, d))), offsets, draw(A(idx.shape))), kwargs)


@st.composite
def embedding_bag_max_samples(draw):
    v, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    w = draw(A((v, d), distinct=True, gap=0.05))  # no ties within a column
    kwargs = {"mode": "max"}
    if draw(st.booleans()):
        kwargs["padding_idx"] = draw(st.integers(0, v - 1))
    if draw(st.booleans()):
        return Sample((draw(_ints(draw(mst.shapes(2, 2, 1, 3)), 0, v - 1)), w), kwargs)
    idx, offsets, last = draw(_bags(v))
    return Sample((idx, w, offsets), dict(kwargs, include_last_offset=last))


# -- losses ----------------------------------------------------------------------------------
REDUCTIONS = st.sampled_from(["none", "mean", "sum"])


@st.composite
def regression_samples(draw, kink=None, param=None):
    shape = draw(mst.shapes(0, 3, 1, 3))
    x = draw(A(shape))
    kwargs = {"reduction": draw(REDUCTIONS)}
    avoid = [0.0]
    if param is not None:
        value = draw(st.sampled_from([0.5, 1.0, 2.0]))
        kwargs[param] = value
        avoid += [value, -value]
    # the target is x minus a difference that keeps away from the kinks
    d = draw(A(shape, avoid=avoid if kink else (), gap=0.05))
    return Sample((x, np.array(x - d)), kwargs)


@st.composite
def class_inputs(draw):
    """(logits, class-index target) in every layout: (C,), (N, C), (N, C, d1[, d2])."""
    c = draw(st.integers(1, 4))
    layout = draw(st.sampled_from(["C", "NC", "NC", "NCd", "NCdd"]))
    n = draw(st.integers(1, 3))
    shape = {"C": (c,), "NC": (n, c), "NCd": (n, c, 2), "NCdd": (n, c, 2, 1)}[layout]
    x = draw(A(shape, min_value=-4, max_value=4))
    tshape = () if layout == "C" else (n,) + shape[2:]
    t = draw(_ints(tshape, 0, c - 1))
    return x, t, c


@st.composite
def cross_entropy_samples(draw, nll=False):
    x, t, c = draw(class_inputs())
    kwargs = {"reduction": draw(REDUCTIONS)}
    if draw(st.booleans()):
        # ignore one class, but keep at least one position counted
        ignore = draw(st.sampled_from([-100, 0, c - 1]))
        if (t != ignore).any():
            kwargs["ignore_index"] = ignore
    if not nll and draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.5, 1.0]))
    if draw(st.booleans()):
        return Sample((x, t, draw(A((c,), min_value=0.1, max_value=2.0))), kwargs, grad_args=(0,))
    return Sample((x, t), kwargs)


@st.composite
def common_cross_entropy_samples(draw):
    """Logits (N, C) and in-range targets with every option at its default: the loss that
    ``losses.CrossEntropyMean`` computes instead of the general ``CrossEntropy``."""
    c, n = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return Sample((draw(A((n, c), min_value=-4, max_value=4)), draw(_ints((n,), 0, c - 1))), {})


def ce_op(x, t, weight=None, **kw):
    return F.cross_entropy(x, t, weight=weight, **kw)


def ce_ref(x, t, weight=None, **kw):
    return TF.cross_entropy(x, t, weight=weight, **kw)


def nll_op(x, t, weight=None, **kw):
    return F.nll_loss(x, t, weight=weight, **kw)


def nll_ref(x, t, weight=None, **kw):
    return TF.nll_loss(x, t, weight=weight, **kw)


@st.composite
def cross_entropy_prob_samples(draw):
    x, _, c = draw(class_inputs())
    y = draw(A(x.shape, min_value=0.0, max_value=1.0))
    kwargs = {"reduction": draw(REDUCTIONS)}
    if draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.5]))
    if draw(st.booleans()):
        return Sample((x, y, draw(A((c,), min_value=0.1, max_value=2.0))), kwargs, grad_args=(0, 1))
    return Sample((x, y), kwargs)


@st.composite
def bce_samples(draw):
    shape = draw(mst.shapes(0, 3, 1, 3))
    x = draw(A(shape, min_value=0.05, max_value=0.95))
    y = draw(A(shape, min_value=0.0, max_value=1.0))
    kwargs = {"reduction": draw(REDUCTIONS)}
    if draw(st.booleans()):
        return Sample((x, y, draw(A(shape, min_value=0.1, max_value=2.0))), kwargs, grad_args=(0, 1))
    return Sample((x, y), kwargs)


def bce_op(x, y, weight=None, **kw):
    return F.binary_cross_entropy(x, y, weight=weight, **kw)


def bce_ref(x, y, weight=None, **kw):
    return TF.binary_cross_entropy(x, y, weight=weight, **kw)


@st.composite
def bce_logits_samples(draw):
    shape = draw(mst.shapes(1, 3, 1, 3))
    x = draw(A(shape, min_value=-6, max_value=6))
    y = draw(A(shape, min_value=0.0, max_value=1.0))
    w = draw(A(shape[-1:], min_value=0.1, max_value=2.0)) if draw(st.booleans()) else None
    pw = draw(A(shape[-1:], min_value=0.1, max_value=3.0)) if draw(st.booleans()) else None
    return Sample((x, y, w, pw), {"reduction": draw(REDUCTIONS)}, grad_args=(0, 1))


def bce_logits_op(x, y, weight=None, pos_weight=None, **kw):
    return F.binary_cross_entropy_with_logits(x, y, weight=weight, pos_weight=pos_weight, **kw)


def bce_logits_ref(x, y, weight=None, pos_weight=None, **kw):
    return TF.binary_cross_entropy_with_logits(x, y, weight=weight, pos_weight=pos_weight, **kw)


# -- bilinear forms and distances (composed of tensor ops) -------------------------------
@st.composite
def bilinear_samples(draw):
    lead = draw(mst.shapes(0, 2, 1, 3))
    in1, in2, out = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x1, x2, w = draw(A(lead + (in1,))), draw(A(lead + (in2,))), draw(A((out, in1, in2)))
    if draw(st.booleans()):
        return Sample((x1, x2, w, draw(A((out,)))))
    return Sample((x1, x2, w))


def _broadcastable(draw, shape):
    """``shape`` with some dimensions set to 1 and maybe some leading ones dropped."""
    shape = tuple(1 if draw(st.booleans()) else n for n in shape)
    return shape[draw(st.integers(0, len(shape) - 1)):]


@st.composite
def cosine_similarity_samples(draw):
    shape = draw(mst.shapes(1, 3, 1, 3))
    other = _broadcastable(draw, shape)
    if draw(st.booleans()):
        shape, other = other, shape
    ndim = max(len(shape), len(other))
    # Elements kept away from 0 so no norm comes near eps (where PyTorch's clamp makes the
    # gradient differ from the function's finite differences: see test_nn_layers.py).
    x1 = draw(A(shape, avoid=(0.0,), gap=0.3))
    x2 = draw(A(other, avoid=(0.0,), gap=0.3))
    kwargs = {"dim": draw(st.integers(-ndim, ndim - 1))}
    if draw(st.booleans()):
        kwargs["eps"] = draw(st.sampled_from([1e-8, 1e-3]))
    return Sample((x1, x2), kwargs)


@st.composite
def pairwise_distance_samples(draw):
    shape = draw(mst.shapes(1, 2, 1, 4))
    other = _broadcastable(draw, shape)
    p = draw(st.sampled_from([2.0, 1.0, 3.0, 1.5, 0.5, float("inf")]))
    # The difference d is drawn, away from 0 (|d| is not differentiable there) and, for
    # p = inf, positive and distinct (no tied maxima); the inputs are (a + d, a), either way round.
    inf = p == float("inf")
    d = draw(A(shape, min_value=0.05 if inf else -3.0, avoid=() if inf else (0.0,), gap=0.05, distinct=inf))
    a = draw(A(other))
    x1, x2 = np.array(a + d), a
    if draw(st.booleans()):
        x1, x2 = x2, x1
    kwargs = {"p": p}
    if draw(st.booleans()):
        kwargs["eps"] = draw(st.sampled_from([0.0, 1e-6, 0.01]))
    if draw(st.booleans()):
        kwargs["keepdim"] = True
    return Sample((x1, x2), kwargs)

def _f64(*shape):
    return np.zeros(shape)


OPS = [
    OpInfo("nn.bilinear", F.bilinear, TF.bilinear, bilinear_samples,
           error_samples=lambda: [
               ErrorSample((_f64(2, 3), _f64(2, 1, 4), _f64(5, 3, 4)), {}, RuntimeError,
                           "bilinear\\(\\): input dimensions do not match: got 2 and 3"),
               ErrorSample((_f64(2, 3), _f64(3, 4), _f64(5, 3, 4)), {}, RuntimeError,
                           "input batch dimensions do not match at dim 0: got 2 and 3"),
               ErrorSample((_f64(2, 2), _f64(2, 4), _f64(5, 3, 4)), {}, RuntimeError,
                           "input1 size does not match weight size: got 2 but expected 3"),
               ErrorSample((_f64(2, 3), _f64(2, 6), _f64(5, 3, 4)), {}, RuntimeError,
                           "input2 size does not match weight size: got 6 but expected 4"),
               ErrorSample((_f64(2, 3), _f64(2, 4), _f64(5, 3, 4), _f64(4)), {}, RuntimeError,
                           "bias size does not match weight size: got 4 but expected 5"),
           ]),
    OpInfo("nn.cosine_similarity", F.cosine_similarity, TF.cosine_similarity, cosine_similarity_samples,
           error_samples=lambda: [
               ErrorSample((_f64(3, 4), _f64(2, 4)), {}, RuntimeError,
                           r"The size of tensor a \(3\) must match the size of tensor b \(2\) at non-singleton dimension 0"),
               ErrorSample((np.ones(3, dtype=np.int64), np.ones(3, dtype=np.int64)), {"dim": 0}, RuntimeError,
                           "expected common dtype to be floating point, yet common dtype is Long"),
               ErrorSample((_f64(4), _f64(4)), {}, IndexError, "Dimension out of range"),
           ]),
    OpInfo("nn.pairwise_distance", F.pairwise_distance, TF.pairwise_distance, pairwise_distance_samples,
           error_samples=lambda: [
               ErrorSample((_f64(3, 4), _f64(3, 2)), {}, RuntimeError, "The size of tensor a"),
           ]),
    OpInfo("nn.linear", F.linear, TF.linear, linear_samples, (layers.Linear,),
           error_samples=lambda: [
               ErrorSample((_f64(2, 3), _f64(4, 5)), error=RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\)"),
               ErrorSample((_f64(2, 3), _f64(4, 3).astype(np.float32)), error=RuntimeError, match="same dtype"),
           ]),
    OpInfo("nn.leaky_relu", F.leaky_relu, TF.leaky_relu, leaky_samples, (activations.LeakyReLU,)),
    OpInfo("nn.gelu", F.gelu, TF.gelu, gelu_samples, (activations.GELU,),
           error_samples=lambda: [ErrorSample((_f64(2),), {"approximate": "erf"}, RuntimeError, "none or tanh")]),
    OpInfo("nn.dropout", dropout_op, dropout_ref, dropout_samples, (layers.Dropout,),
           error_samples=lambda: [ErrorSample((_f64(2), 1.5, 0), {}, ValueError, "between 0 and 1, but got 1.5")]),
    OpInfo("nn.scaled_dot_product_attention", F.scaled_dot_product_attention, attention_ref,
           attention_samples, (attention.ScaledDotProductAttention,),
           error_samples=lambda: [
               ErrorSample((_f64(2, 3), _f64(2, 3).astype(np.float32), _f64(2, 3)), {}, RuntimeError,
                           "Expected query, key, and value to have the same dtype"),
           ]),
    OpInfo("nn.layer_norm", F.layer_norm, TF.layer_norm, layer_norm_samples, (layers.LayerNorm,),
           error_samples=lambda: [ErrorSample((_f64(2, 4), (3,)), {}, RuntimeError, r"expected input with shape \[\*, 3\]")],
           float32_rtol=1e-3, float32_atol=1e-4),
    OpInfo("nn.embedding", F.embedding, TF.embedding, embedding_samples, (Embedding,),
           error_samples=lambda: [
               ErrorSample((np.array([3]), _f64(3, 2)), {}, IndexError, "out of range"),
               ErrorSample((np.array([-1]), _f64(3, 2)), {}, IndexError, "out of range"),
               ErrorSample((np.array([1.0]), _f64(3, 2)), {}, RuntimeError, "Long, Int"),
               ErrorSample((np.array([0]), _f64(3)), {}, RuntimeError, r"must be 2-D.*\(3,\)"),
               ErrorSample((np.array([0]), _f64(3, 2)), {"padding_idx": 3}, AssertionError, "Padding_idx must be within"),
           ]),
    OpInfo("nn.embedding_options", F.embedding, TF.embedding, lambda: embedding_samples(options=True),
           (Embedding,), gradcheck=False),
    OpInfo("nn.embedding_bag_options", F.embedding_bag, TF.embedding_bag, lambda: embedding_bag_samples(options=True),
           (EmbeddingBagSum,), gradcheck=False),
    OpInfo("nn.embedding_bag", F.embedding_bag, TF.embedding_bag, embedding_bag_samples, (EmbeddingBagSum,),
           error_samples=lambda: [
               ErrorSample((np.array([1, 7]), _f64(6, 2), np.array([0])), {}, IndexError,
                           r"Index 1 of input takes value 7 which is not in the valid range \[0, 6\)"),
               ErrorSample((np.array([1, 2]), _f64(6, 2), np.array([1])), {}, RuntimeError, r"offsets\[0\] has to be 0"),
           ]),
    OpInfo("nn.embedding_bag_per_sample_weights", bag_psw_op, bag_psw_ref, embedding_bag_psw_samples, (EmbeddingBagSum,),
           no_torch_second_order="PyTorch has no derivative for _embedding_bag_per_sample_weights_backward"),
    OpInfo("nn.embedding_bag_max", F.embedding_bag, TF.embedding_bag, embedding_bag_max_samples, (EmbeddingBagMax,),
           error_samples=lambda: [
               ErrorSample((np.array([1]), _f64(6, 2), np.array([0])), {"mode": "max", "sparse": True}, ValueError,
                           "max mode does not support sparse weights"),
           ]),
    OpInfo("nn.mse_loss", F.mse_loss, TF.mse_loss, regression_samples, (losses.MSELoss,),
           error_samples=lambda: [ErrorSample((_f64(2), _f64(2)), {"reduction": "avg"}, ValueError, "avg is not a valid value for reduction")]),
    OpInfo("nn.l1_loss", F.l1_loss, TF.l1_loss, lambda: regression_samples(kink=True), (losses.L1Loss,)),
    OpInfo("nn.smooth_l1_loss", F.smooth_l1_loss, TF.smooth_l1_loss, lambda: regression_samples(kink=True, param="beta"),
           (losses.SmoothL1Loss,),
           error_samples=lambda: [ErrorSample((_f64(2), _f64(2)), {"beta": -1.0}, RuntimeError, "negative values for beta")]),
    OpInfo("nn.huber_loss", F.huber_loss, TF.huber_loss, lambda: regression_samples(kink=True, param="delta"), (losses.HuberLoss,),
           error_samples=lambda: [ErrorSample((_f64(2), _f64(2)), {"delta": 0.0}, RuntimeError, "non-positive values for delta")]),
    OpInfo("nn.cross_entropy", ce_op, ce_ref, cross_entropy_samples, (losses.CrossEntropy,),
           error_samples=lambda: [
               ErrorSample((_f64(3, 4), np.array([0, 1, 4])), {}, IndexError, "Target 4 is out of bounds."),
               ErrorSample((_f64(5, 4), np.array([0, 1, 3])), {}, ValueError,
                           r"Expected input batch_size \(5\) to match target batch_size \(3\)\."),
               ErrorSample((_f64(3, 4), np.array([0.0, 1.0, 3.0])), {}, RuntimeError, "expected target dtype to be Long"),
               ErrorSample((_f64(3, 4), np.array([0, 1, 3])), {"label_smoothing": 1.5}, RuntimeError, "label_smoothing must be between"),
               ErrorSample((_f64(3, 4), np.array([0, 1, 3]), _f64(3)), {}, RuntimeError, "weight tensor should be defined"),
               ErrorSample((_f64(3, 4), _f64(3, 4)), {"ignore_index": 1}, RuntimeError, "ignore_index is not supported for floating point target"),
           ]),
    OpInfo("nn.cross_entropy_common", ce_op, ce_ref, common_cross_entropy_samples, (losses.CrossEntropyMean,)),
    OpInfo("nn.cross_entropy_probs", ce_op, ce_ref, cross_entropy_prob_samples, (losses.CrossEntropyProbs,)),
    OpInfo("nn.nll_loss", nll_op, nll_ref, lambda: cross_entropy_samples(nll=True), (losses.NLLLoss,),
           error_samples=lambda: [ErrorSample((_f64(3, 4), np.array([0, -1, 3])), {}, IndexError, "Target -1 is out of bounds.")]),
    OpInfo("nn.binary_cross_entropy", bce_op, bce_ref, bce_samples, (losses.BCELoss,),
           error_samples=lambda: [
               ErrorSample((np.array([1.5]), np.array([1.0])), {}, RuntimeError, "all elements of input should be between 0 and 1"),
               ErrorSample((_f64(3), _f64(4)), {}, ValueError, "different to the input size"),
           ]),
    OpInfo("nn.binary_cross_entropy_with_logits", bce_logits_op, bce_logits_ref, bce_logits_samples, (losses.BCEWithLogits,),
           error_samples=lambda: [ErrorSample((_f64(3), _f64(4)), {}, ValueError, "must be the same as input size")]),
]
