"""Functional forms of the layers and losses: ``import minigrad.nn.functional as F``.

Each function checks its arguments the way PyTorch does (same messages where
PyTorch has them), then calls one fused ``Primitive`` - from :mod:`minigrad.ops.layers`,
:mod:`minigrad.ops.embedding` or :mod:`minigrad.ops.losses`, whose docstrings state
the math and the VJP - or a generic op from :mod:`minigrad.ops`.
The modules in :mod:`minigrad.nn` are thin stateful wrappers around these.
"""
from __future__ import annotations

import warnings

import numpy as np

from minigrad import ops as _ops
from minigrad.autograd import no_grad
from minigrad.autograd.function import rename_node
from minigrad.ops import layers as _layers
from minigrad.ops import losses as _losses
from minigrad.ops._spellings import numpy_spellings
# (from-imports by name: ``minigrad.ops.embedding`` is also the re-exported function)
from minigrad.ops.embedding import Embedding as _Embedding
from minigrad.ops.embedding import EmbeddingBagMax as _EmbeddingBagMax
from minigrad.ops.embedding import EmbeddingBagSum as _EmbeddingBagSum
from minigrad.ops.embedding import index_array as _index_array
from minigrad.ops.activations import (
    celu, celu_, elu, elu_, gelu, hardshrink, hardsigmoid, hardswish, hardtanh, hardtanh_, leaky_relu, leaky_relu_,
    logsigmoid, mish, relu6, selu, selu_, silu, softplus, softshrink, softsign, tanhshrink, threshold, threshold_,
)
from minigrad.ops.attention import scaled_dot_product_attention
from minigrad.random import _numpy_generator
from minigrad.tensor import Tensor

__all__ = [
    "relu", "leaky_relu", "gelu", "sigmoid", "tanh", "softmax", "log_softmax", "linear", "embedding",
    "embedding_bag", "dropout", "layer_norm", "one_hot", "mse_loss", "l1_loss", "smooth_l1_loss",
    "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "scaled_dot_product_attention",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "batch_norm",
    "bilinear", "cosine_similarity", "pairwise_distance",
    "softplus", "silu", "elu", "mish", "hardtanh", "logsigmoid",
    "relu6", "selu", "selu_", "celu", "celu_", "hardswish", "hardsigmoid", "softsign", "tanhshrink", "softshrink",
    "hardshrink", "threshold", "threshold_", "relu_", "elu_", "hardtanh_", "leaky_relu_",
    "kl_div", "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss", "poisson_nll_loss",
    "gaussian_nll_loss", "pad", "normalize",
]


def _arr(x):
    """The array behind a tensor (or an array-like), for non-differentiable arguments."""
    if x is None:
        return None
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _watched(source, arr):
    """``arr``, read from tensor ``source`` (maybe a view, no copy), as a tensor sharing its version counter.

    Handing this to ``apply`` instead of the bare array lets the op's backward
    refuse to run if ``source`` is changed in place after forward (e.g. an index
    buffer refilled, or class weights updated).
    """
    if arr is None or not isinstance(source, Tensor):
        return arr
    t = Tensor._make(arr, False, None)
    t._vc = source._vc
    return t


def _size(shape) -> str:
    return "torch.Size([" + ", ".join(str(s) for s in shape) + "])"


# -- activations ---------------------------------------------------------------------
def relu(input, inplace: bool = False):
    """max(x, 0), elementwise (``inplace`` is accepted and ignored: the result is a new tensor;
    ``relu_`` writes into the input)."""
    return _ops.relu(input)


def relu_(input):
    """In place: ``relu(input)`` written into ``input``, which is returned (``input.relu_()``)."""
    return input.relu_()


def sigmoid(input):
    """Logistic sigmoid, ``1/(1 + e⁻ˣ)``; the same as :func:`minigrad.sigmoid`."""
    return _ops.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent; the same as :func:`minigrad.tanh`."""
    return _ops.tanh(input)


def _softmax_dim(ndim: int, name: str) -> int:
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """e^{x_i}/Σ_j e^{x_j} along ``dim`` (computed stably)."""
    if dim is None:
        dim = _softmax_dim(input.ndim, "softmax")
    if dtype is not None:
        input = input.to(dtype)
    return _ops.softmax(input, dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    """x_i − log Σ_j e^{x_j} along ``dim`` (computed stably)."""
    if dim is None:
        dim = _softmax_dim(input.ndim, "log_softmax")
    if dtype is not None:
        input = input.to(dtype)
    return _ops.log_softmax(input, dim)


# -- layers --------------------------------------------------------------------------
def linear(input, weight, bias=None):
    """``y = x Wᵀ + b``: x ``(*, in)``, W ``(out, in)``, b ``(out,)``. One fused op (:class:`minigrad.ops.layers.Linear`)."""
    if weight.ndim != 2:
        raise RuntimeError(f"linear(): weight must be 2-D (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        rows = int(np.prod(input.shape[:-1])) if input.ndim > 1 else 1
        cols = input.shape[-1] if input.ndim else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{cols} and {weight.shape[1]}x{weight.shape[0]})"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {input.dtype} and {weight.dtype}")
    if input.dtype == np.bool_:
        _ops.floating_only("addmm", input)  # integers multiply in PyTorch, bools do not
    if bias is not None and bias.shape not in ((weight.shape[0],), ()):
        raise RuntimeError(f"linear(): bias of shape {tuple(bias.shape)} does not match out_features={weight.shape[0]}")
    out = _layers.Linear.apply(input, weight, bias)
    if input.ndim != 2 or bias is None:
        rename_node(out, _LINEAR_NODE_NAMES[min(input.ndim, 3), bias is not None])
    return out


# PyTorch's node for linear, by input dims and bias: addmm (mm without a bias) on 2-D input;
# other dims are reshaped around it, so a view (or the squeeze of a 1-D input) shows.
_LINEAR_NODE_NAMES = {(2, False): "MmBackward0", (1, True): "ViewBackward0", (1, False): "SqueezeBackward4",
                      (3, True): "ViewBackward0", (3, False): "UnsafeViewBackward0"}


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1 − p).

    The identity when ``training`` is False or ``p`` = 0, so nothing changes at
    evaluation time. The mask comes from minigrad's generator. ``inplace`` is
    accepted for PyTorch compatibility; the result is always a new tensor.
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if input.dtype.kind in "biu":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_ops.torch_dtype_name(input.dtype)}")
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=input.dtype)
    else:
        keep = _numpy_generator().random(input.shape) >= p
        mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return _layers.Dropout.apply(input, mask)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Normalise over the trailing ``normalized_shape`` dims, then scale by ``weight`` and shift by ``bias``."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(str(s) for s in normalized_shape)}], but got input of size{list(input.shape)}"
        )
    _ops.floating_only("layer_norm", input)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.dtype.kind in "biu":
            raise RuntimeError(
                f"mixed dtype (CPU): expect parameter to have scalar type of {_ops.torch_dtype_name(input.dtype)}")
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape {list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    return _layers.LayerNorm.apply(input, weight, bias, k=k, eps=float(eps))


def one_hot(tensor, num_classes: int = -1):
    """``out[..., c] = 1 if tensor[...] == c else 0``, int64, with ``num_classes`` inferred as max + 1 when -1.

    ``one_hot(idx).float() @ W`` equals ``embedding(idx, W)``: the lookup is a
    matrix product with a one-hot matrix, done without building it.
    """
    idx = _arr(tensor)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size:
        if idx.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if idx.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(idx.shape + (int(num_classes),), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.int64), 1, axis=-1)
    return Tensor._make(out, False, None)


# -- embedding -----------------------------------------------------------------------
def _normalize_padding_idx(padding_idx, num_embeddings: int, name: str = "Padding_idx") -> int:
    """-1 for none; a negative index counts from the end, as in PyTorch.

    Outside [-V, V) it is PyTorch's AssertionError (whose wording differs between
    Embedding, "Padding_idx", and EmbeddingBag, "padding_idx").
    """
    if padding_idx is None:
        return -1
    padding_idx = int(padding_idx)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(f"{name} must be within num_embeddings")
    return padding_idx % num_embeddings


def _renorm_(weight, idx, max_norm: float, norm_type: float) -> None:
    """Scale the looked-up rows whose ``norm_type``-norm exceeds ``max_norm`` back to it, in place.

    Outside autograd (PyTorch does the same): the scale is not differentiated
    through, and the weight's version is bumped, so a graph that saved the
    weight earlier refuses to backpropagate.
    """
    flat = idx.reshape(-1)
    if flat.size == 0:
        return
    v = weight.shape[0]
    if flat.min() < 0 or flat.max() >= v:
        bad = flat[(flat < 0) | (flat >= v)][0]
        raise IndexError(f"index {bad} is out of range for weight with {v} rows (valid range [0, {v}))")
    rows = np.unique(flat)
    with no_grad():
        w = weight._array
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
        over = norms > max_norm
        if over.any():
            r = rows[over]
            w[r] *= (max_norm / (norms[over] + 1e-7)).astype(w.dtype)[:, None]
        weight._bump_version()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):
    """Look up rows of ``weight`` (V, D) at the integer positions ``input`` (any shape) → ``input.shape + (D,)``.

    Forward is the gather kernel, backward the index-add kernel (only looked-up
    rows get gradient; duplicates accumulate). See :class:`minigrad.nn.Embedding`
    for ``padding_idx``, ``max_norm`` (which modifies ``weight`` in place),
    ``scale_grad_by_freq`` and ``sparse``.
    """
    idx = _index_array(input, "embedding")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a weight of shape {tuple(weight.shape)}")
    v = weight.shape[0]
    pad = _normalize_padding_idx(padding_idx, v)
    if sparse and scale_grad_by_freq:
        # PyTorch 2.13 accepts this combination but fails in backward; fail early instead.
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    return _Embedding.apply(_watched(input, idx), weight, padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq), sparse=bool(sparse))


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx=None):
    """Sum, mean or max of embedding rows over bags of indices, without materialising the lookups per bag.

    ``input`` 2-D (B, L): B bags of L indices (``offsets`` must be None). ``input``
    1-D with 1-D ``offsets``: bag b is ``input[offsets[b]:offsets[b+1]]`` (the last
    bag runs to the end, or ``include_last_offset=True`` makes the last offset
    the end). Empty bags give zeros. ``per_sample_weights`` (input's shape,
    'sum' only) weight each looked-up row; entries equal to ``padding_idx`` are
    left out (and not counted by 'mean'). Returns (B, D).
    """
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(
            f"embedding_bag: If per_sample_weights ({_size(per_sample_weights.shape)}) is not None, then it must "
            f"have the same shape as the input ({_size(input.shape)})"
        )
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if weight.dtype.kind != "f":
        raise RuntimeError(
            "Expected tensor for argument #1 'weight' to have one of the following scalar types: Half, Float, Double; "
            f"but got {_ops.torch_dtype_name(weight.dtype)} instead (while checking arguments for embedding_bag)"
        )
    idx = _index_array(input, "embedding_bag")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length "
                f"sequences. However, found offsets of type {type(offsets)}"
            )
        b, length = idx.shape
        starts = np.arange(b, dtype=np.int64) * length
        lengths = np.full(b, length, dtype=np.int64)
        idx = idx.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = _ops.reshape(per_sample_weights, (-1,))
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = _arr(offsets)
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        if off.dtype.kind not in "iu":
            raise RuntimeError(
                "Expected tensor for argument #1 'offsets' to have one of the following scalar types: Long, Int; "
                f"but got {_ops.torch_dtype_name(off.dtype)} instead (while checking arguments for embedding_bag)"
            )
        starts, lengths = _bags_from_offsets(off.astype(np.int64), idx.shape[0], include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    v = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= v):
        pos = int(np.flatnonzero((idx < 0) | (idx >= v))[0])
        raise IndexError(f"Index {pos} of input takes value {idx[pos]} which is not in the valid range [0, {v})")
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            "embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' "
            f"(got mode='{mode}'). Please open a feature request on GitHub."
        )
    if mode == "max":
        if scale_grad_by_freq:
            raise ValueError("max mode does not support scaling the gradient by the frequency")
        if sparse:
            raise ValueError("max mode does not support sparse weights")
    if sparse and scale_grad_by_freq:
        raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
    pad = _normalize_padding_idx(padding_idx, v)
    total = int(lengths.sum())
    if total < idx.shape[0]:  # include_last_offset: entries after the last offset are in no bag
        idx = idx[:total]
        if per_sample_weights is not None:
            per_sample_weights = _ops.getitem(per_sample_weights, slice(0, total))
    idx = _watched(input, idx)
    if mode == "max":
        return _EmbeddingBagMax.apply(idx, weight, starts=starts, lengths=lengths, padding_idx=pad)
    return _EmbeddingBagSum.apply(
        idx, weight, per_sample_weights, starts=starts, lengths=lengths, mean=(mode == "mean"),
        padding_idx=pad, scale_grad_by_freq=bool(scale_grad_by_freq), sparse=bool(sparse),
    )


def _bags_from_offsets(off: np.ndarray, n: int, include_last_offset: bool):
    """``(starts, lengths)`` of every bag, after PyTorch's checks on ``offsets``."""
    if off.size == 0:
        if include_last_offset:
            raise RuntimeError("include_last_offset=True needs at least one offset (the end of the last bag)")
        return off, off
    if off[0] != 0:
        raise RuntimeError(
            "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. "
            f"However, got {off[0]}"
        )
    if off[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of {off[-1]}")
    if off.size > 1 and (np.diff(off) < 0).any():
        k = int(np.flatnonzero(np.diff(off) < 0)[0]) + 1
        raise RuntimeError(f"offsets must be non-decreasing, but offsets[{k}] = {off[k]} < offsets[{k - 1}] = {off[k - 1]}")
    if include_last_offset:
        starts, ends = off[:-1], off[1:]
    else:
        starts, ends = off, np.append(off[1:], n)
    return starts, ends - starts


# -- losses --------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    if size_average is None and reduce is None:
        if reduction not in ("none", "mean", "sum"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='...' instead.", UserWarning, stacklevel=3)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def _pointwise_loss(fn, input, target, reduction, param=1.0, name=""):
    target = _as_tensor(target)
    _ops.floating_only(name, *(() if "f" in (input.dtype.kind, target.dtype.kind) else (input,)))
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({_size(target.shape)}) that is different to the input size "
            f"({_size(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
        try:
            np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
        except ValueError:
            raise RuntimeError(
                f"The size of input {_size(input.shape)} and target {_size(target.shape)} cannot be broadcast together"
            ) from None
    return fn.apply(input, target, reduction=reduction, param=param)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean squared error: ℓ = (x − y)², reduced by ``reduction``."""
    return _pointwise_loss(_losses.MSELoss, input, target, _legacy_reduction(size_average, reduce, reduction), name="mse")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """Mean absolute error: ``ℓ = |x − y|``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor(target)
    if np.bool_ in (input.dtype, target.dtype):  # PyTorch computes |x − y| with a subtraction
        _ops.sub(input, target)
    if "f" not in (input.dtype.kind, target.dtype.kind):
        # Integers (PyTorch has no L1 kernel for them but composes |x − y|): exact in integers,
        # summed in int64; the mean of integers is its error.
        if reduction == "mean":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {_ops.torch_dtype_name(np.result_type(input.dtype, target.dtype))}")
        d = _ops.abs(_ops.sub(input, target))
        return d if reduction == "none" else _ops.sum(d)
    # PyTorch composes l1_loss as |x − y| and a reduction: the node shown is the last of them.
    return rename_node(_pointwise_loss(_losses.L1Loss, input, target, reduction), _L1_NODE_NAMES[reduction])


_L1_NODE_NAMES = {"mean": "MeanBackward0", "sum": "SumBackward0", "none": "AbsBackward0"}


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """``ℓ = ½d²/β if |d| < β else |d| − ½β``, ``d = x − y``."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _pointwise_loss(_losses.SmoothL1Loss, input, target, _legacy_reduction(size_average, reduce, reduction), float(beta),
                           name="smooth_l1")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """``ℓ = ½d² if |d| < δ else δ(|d| − ½δ)``, ``d = x − y``."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if input.dtype.kind in "biu" and _arr(target).dtype.kind == "f":  # PyTorch writes into the input's dtype
        raise RuntimeError(f"result type {_ops.torch_dtype_name(_arr(target).dtype)} can't be cast to the desired "
                           f"output type {_ops.torch_dtype_name(input.dtype)}")
    return _pointwise_loss(_losses.HuberLoss, input, target, _legacy_reduction(None, None, reduction), float(delta),
                           name="huber")


def _class_weight(weight, num_classes: int, dtype):
    """The per-class weight as an array of the input's dtype (None stays None)."""
    if weight is None:
        return None
    w = _arr(weight)
    if w.dtype.kind in "biu":
        raise RuntimeError(f"expected scalar type {_ops.torch_dtype_name(dtype)} but found {_ops.torch_dtype_name(w.dtype)}")
    if w.shape != (num_classes,):
        raise RuntimeError(
            f"weight tensor should be defined either for all {num_classes} classes or no classes but got "
            f"weight tensor of shape: {list(w.shape)}"
        )
    return w.astype(dtype, copy=False)


def _class_layout(input, target, weight, name):
    """Check a classification input/target pair; return (input as (M, C), target (M,), out shape, weight)."""
    if input.ndim == 0:
        raise ValueError(f"Expected input to have at least 1 dimension, got a 0-d input ({name})")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    w = _class_weight(weight, c, input.dtype)
    if input.ndim == 1:
        out_shape = ()
        if target.ndim != 0:
            raise RuntimeError(f"Expected target to be a 0-d tensor for an input of shape {list(input.shape)}, got target of size {list(target.shape)}")
    else:
        n = input.shape[0]
        if target.ndim == 0 or target.shape[0] != n:
            tb = target.shape[0] if target.ndim else 0
            raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({tb}).")
        out_shape = (n,) + tuple(input.shape[2:])
        if tuple(target.shape) != out_shape:
            raise RuntimeError(f"Expected target size {list(out_shape)}, got {list(target.shape)}")
    return c, out_shape, w


def _to_rows(input):
    """(N, C, d1, …) → (N·d1·…, C) with the class dim last; (N, C) and (C,) need no copy."""
    if input.ndim == 1:
        return _ops.reshape(input, (1, input.shape[0]))
    if input.ndim == 2:
        return input
    c = input.shape[1]
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    return _ops.reshape(_ops.permute(input, perm), (-1, c))


def _check_targets(t: np.ndarray, c: int, ignore_index: int) -> np.ndarray:
    if t.dtype.kind not in "iu":
        name = {"f": "Float", "b": "Bool"}.get(t.dtype.kind, str(t.dtype))
        if t.dtype == np.float64:
            name = "Double"
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {name}")
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(f"Target {t[bad][0]} is out of bounds.")
    return t.reshape(-1).astype(np.int64, copy=False)


def _unflatten_loss(loss, reduction, out_shape):
    if reduction == "none" and tuple(loss.shape) != out_shape:
        return _ops.reshape(loss, out_shape)
    return loss


def _common_cross_entropy(input, t, weight, ignore_index, reduction, label_smoothing) -> bool:
    """Whether :class:`~minigrad.ops.losses.CrossEntropyMean` computes this loss: logits (N, C),
    int64 targets (N,) all in [0, C) (so none is ignored), no weight, 'mean', no smoothing.
    Anything else - including every error - takes the general path and its checks."""
    if weight is not None or reduction != "mean" or label_smoothing != 0 or input.ndim != 2:
        return False
    n, c = input.shape
    if t.dtype != np.int64 or t.shape != (n,) or n == 0 or 0 <= ignore_index < c:
        return False
    return 0 <= t.min() and t.max() < c


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """Cross-entropy between logits ``input`` and class indices or class probabilities ``target``.

    ``input`` is (N, C), (N, C, d1, …) or (C,). Class-index ``target`` (an
    integer tensor of shape (N, d1, …) or ()): ℓ_n = −w_{y_n}·log softmax(x_n)_{y_n},
    with positions equal to ``ignore_index`` left out; 'mean' divides by the sum
    of the weights of the counted positions. Probability ``target`` (float, the
    input's shape): ℓ_n = −Σ_c w_c y_{n,c} log softmax(x_n)_c; 'mean' divides by
    the number of positions. One fused op (log-softmax + NLL), stable for any logits.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _ops.floating_only("log_softmax", input)
    t = _arr(target)
    if t.dtype.kind == "f" and tuple(t.shape) == tuple(input.shape):
        if ignore_index != -100:
            raise RuntimeError("ignore_index is not supported for floating point target")
        c = input.shape[0] if input.ndim == 1 else input.shape[1]
        w = _class_weight(weight, c, input.dtype)
        out_shape = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
        loss = _losses.CrossEntropyProbs.apply(
            _to_rows(input), _to_rows(_as_tensor(target)), weight=_watched(weight, w), reduction=reduction,
            label_smoothing=float(label_smoothing),
        )
        return _unflatten_loss(loss, reduction, out_shape)
    if _common_cross_entropy(input, t, weight, ignore_index, reduction, label_smoothing):
        return _losses.CrossEntropyMean.apply(input, _watched(target, t))
    c, out_shape, w = _class_layout(input, t, weight, "cross_entropy")
    t = _check_targets(t, c, ignore_index)
    loss = _losses.CrossEntropy.apply(
        _to_rows(input), _watched(target, t), weight=_watched(weight, w), ignore_index=int(ignore_index), reduction=reduction,
        label_smoothing=float(label_smoothing),
    )
    return _unflatten_loss(loss, reduction, out_shape)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``.

    ℓ_n = −w_{y_n}·x_{n,y_n} (0 where y_n = ``ignore_index``); shapes as in :func:`cross_entropy`.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _ops.floating_only("nll_loss", input)
    t = _arr(target)
    c, out_shape, w = _class_layout(input, t, weight, "nll_loss")
    t = _check_targets(t, c, ignore_index)
    loss = _losses.NLLLoss.apply(_to_rows(input), _watched(target, t), weight=_watched(weight, w), ignore_index=int(ignore_index), reduction=reduction)
    return _unflatten_loss(loss, reduction, out_shape)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """ℓ = −w·(y log x + (1 − y) log(1 − x)) for probabilities x ∈ [0, 1]; logs clamped at −100.

    Prefer :func:`binary_cross_entropy_with_logits` on raw scores: it is stable where this is not.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({_size(target.shape)}) that is different to the input size "
            f"({_size(input.shape)}) is deprecated. Please ensure they have the same size."
        )
    _ops.floating_only("binary_cross_entropy", input)
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_ops.torch_dtype_name(target.dtype)} but expected {_ops.torch_dtype_name(input.dtype)}")
    x = input._array
    if x.size and not ((x >= 0) & (x <= 1)).all():
        raise RuntimeError("all elements of input should be between 0 and 1")
    w = None
    if weight is not None:
        w = np.broadcast_to(_arr(weight), input.shape).astype(input.dtype, copy=False)
    return _losses.BCELoss.apply(input, target, weight=_watched(weight, w), reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """Sigmoid + binary cross-entropy in one stable op: finite for logits of any size.

    ℓ = w·((1 − y)·x + (1 + (p − 1)·y)·log(1 + e^{−x})), ``pos_weight`` p
    broadcast over the last (class) dim, computed as ``log1p(e^{−|x|}) + max(−x, 0)``.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor(target)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target.shape)}) must be the same as input size ({_size(input.shape)})")
    _ops.floating_only("log_sigmoid", input)
    if target.dtype.kind in "biu":
        raise RuntimeError(f"result type {_ops.torch_dtype_name(input.dtype)} can't be cast to the desired output "
                           f"type {_ops.torch_dtype_name(target.dtype)}")
    w = None if weight is None else _arr(weight).astype(input.dtype, copy=False)
    pw = None if pos_weight is None else _arr(pos_weight).astype(input.dtype, copy=False)
    return _losses.BCEWithLogits.apply(input, target, weight=_watched(weight, w), pos_weight=_watched(pos_weight, pw),
                                  reduction=reduction)


# -- bilinear forms and distances (compositions of tensor ops) ------------------------
def bilinear(input1, input2, weight, bias=None):
    """``y_o = x₁ᵀ A_o x₂ + b_o``: x₁ ``(*, in1)``, x₂ ``(*, in2)``, A ``(out, in1, in2)``, b ``(out,)``.

    Computed as one matrix product and a reduction, ``Σ_j (x₁ A)_{o,j} x₂_j``
    with ``x₁ A`` of shape ``(N, out, in2)``; the gradient is that of those ops.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> A = minigrad.ones(1, 2, 3)
    >>> F.bilinear(minigrad.tensor([[1.0, 2.0]]), minigrad.tensor([[1.0, 0.0, -1.0]]), A)
    tensor([[0.]])
    """
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for d in range(input1.ndim - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(
                f"bilinear(): input batch dimensions do not match at dim {d}: got {input1.shape[d]} and {input2.shape[d]}"
            )
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D (out, in1, in2), got shape {tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != in1:
        got = input1.shape[-1] if input1.ndim else 1
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {got} but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but expected {in2}")
    if bias is not None and (bias.ndim == 0 or bias.shape[0] != out):
        got = bias.shape[0] if bias.ndim else 1
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {got} but expected {out}")
    lead = tuple(input1.shape[:-1])
    n = int(np.prod(lead, dtype=np.int64))
    # (N, in1) @ (in1, out·in2) -> (N, out, in2), then the dot product with x₂ over in2.
    a = weight.permute(1, 0, 2).reshape(in1, out * in2)
    xa = input1.reshape(n, in1).matmul(a).reshape(n, out, in2)
    prod = xa * input2.reshape(n, 1, in2)
    y = prod.sum(-1)
    if y.dtype != prod.dtype:  # sum widens integers to int64; PyTorch's bilinear keeps the dtype
        y = y.to(prod.dtype)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


def _root(s, power: float):
    """``s ** power`` for a sum of non-negative terms, with gradient 0 (not NaN) where ``s`` is 0.

    A vector norm's gradient x/‖x‖ is 0/0 at the zero vector; PyTorch defines it
    as 0 there. Routing the zeros through ``where`` gives that, and leaves the
    common case (no zero) a single op.
    """
    nonzero = _arr(s) != 0
    root = _ops.sqrt if power == 0.5 else (lambda t: _ops.pow(t, power))
    if nonzero.all():
        return root(s)
    mask = Tensor._make(nonzero, False, None)
    return root(_ops.where(mask, s, 1.0)) * Tensor._make(nonzero.astype(s.dtype), False, None)


def _vector_norm(x, p: float, dim: int, keepdim: bool):
    """‖x‖_p along ``dim``: (Σ|x|ᵖ)^{1/p}; max |x| for p = ∞, min |x| for p = −∞, the count of non-zeros for p = 0."""
    if p == 2:
        return _root((x * x).sum(dim, keepdim=keepdim), 0.5)
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if p == float("inf"):
        return _ops.amax(x.abs(), dim, keepdim=keepdim)
    if p == float("-inf"):
        return _ops.amin(x.abs(), dim, keepdim=keepdim)
    if p == 0:
        # No gradient (zero) but still part of the graph, as in PyTorch.
        count = (_arr(x) != 0).sum(axis=dim, keepdims=keepdim).astype(x.dtype)
        none = Tensor._make(np.zeros(x.shape, dtype=np.bool_), False, None)
        return _ops.where(none, x, 0.0).sum(dim, keepdim=keepdim) + Tensor._make(count, False, None)
    return _root(x.abs().pow(p).sum(dim, keepdim=keepdim), 1.0 / p)


def _broadcast_pair(x1, x2):
    """Both tensors expanded to their common shape (PyTorch's message when there is none)."""
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    except ValueError:
        ndim = max(x1.ndim, x2.ndim)
        a = (1,) * (ndim - x1.ndim) + tuple(x1.shape)
        b = (1,) * (ndim - x2.ndim) + tuple(x2.shape)
        d = max(i for i in range(ndim) if a[i] != b[i] and 1 not in (a[i], b[i]))
        raise RuntimeError(
            f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at non-singleton dimension {d}"
        ) from None
    return (x1 if tuple(x1.shape) == shape else x1.expand(shape),
            x2 if tuple(x2.shape) == shape else x2.expand(shape))


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """cos θ = x₁·x₂ / (max(‖x₁‖, ε)·max(‖x₂‖, ε)) along ``dim``, after broadcasting x₁ and x₂.

    As PyTorch computes it: each input is divided by its own clamped norm first
    (the result stays in [−1, 1]), and the clamp is invisible to the gradient
    (it acts as if the norm were used as it is).

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.cosine_similarity(minigrad.tensor([[1.0, 0.0], [1.0, 1.0]]), minigrad.tensor([[0.0, 2.0], [3.0, 3.0]]))
    tensor([0., 1.])
    """
    x1, x2 = _as_tensor(x1), _as_tensor(x2)
    if x1.dtype.kind in "biu" and x2.dtype.kind in "biu":
        common = np.promote_types(x1.dtype, x2.dtype)
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is {_ops.torch_dtype_name(common)}"
        )
    x1, x2 = _broadcast_pair(x1, x2)
    normed = []
    for x in (x1, x2):
        norm = _vector_norm(x, 2, dim, True)
        # max(‖x‖, ε) in value, ‖x‖ to the gradient (PyTorch clamps under no_grad).
        clamped = norm + (_ops.clamp(norm, min=eps) - norm).detach()
        normed.append(x / clamped)
    return (normed[0] * normed[1]).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """‖x₁ − x₂ + ε‖_p along the last dimension (of the broadcast shape).

    ``p`` may be any float, ``inf`` (the largest absolute difference) or 0 (the number of
    non-zero differences). The ε keeps the gradient finite when x₁ = x₂.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.pairwise_distance(minigrad.tensor([[0.0, 0.0]]), minigrad.tensor([[3.0, 4.0]]), eps=0.0)
    tensor([5.])
    """
    x1, x2 = _as_tensor(x1), _as_tensor(x2)
    ndim = max(x1.ndim, x2.ndim)
    diff = x1 - x2 + eps
    if ndim == 0:
        return _vector_norm(diff.reshape(1), p, 0, False)
    return _vector_norm(diff, p, ndim - 1, keepdim)


# -- divergences and margin losses (compositions of tensor ops) ----------------------
# Written with differentiable tensor ops, in the order PyTorch's own composite kernels use,
# so that values, gradients and every higher order follow from those ops.
def _reduce(loss, reduction: str):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _const(arr):
    return Tensor._make(np.asarray(arr), False, None)


def _sizes(t) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """Kullback–Leibler divergence of ``target`` from ``input`` (log-probabilities), pointwise.

    ``ℓ = y·(log y − x)`` (0 where y = 0), or ``e^y·(y − x)`` when ``log_target`` says y is
    a log-probability too. ``reduction='batchmean'`` divides the sum by the batch size (the
    divergence per sample); 'mean' divides by the number of elements, and warns as PyTorch does.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.kl_div(minigrad.tensor([[0.5, 0.5]]).log(), minigrad.tensor([[0.25, 0.75]]), reduction="batchmean")
    tensor(0.1308)
    """
    target = _as_tensor(target)
    if size_average is not None or reduce is not None:
        how = _legacy_reduction(size_average, reduce, "mean")
    elif reduction == "batchmean":
        how = "sum"
    else:
        if reduction == "mean":
            warnings.warn(
                "reduction: 'mean' divides the total loss by both the batch size and the support size."
                "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                UserWarning,
                stacklevel=2,
            )
        how = _legacy_reduction(None, None, reduction)
    if input.dtype.kind in "biu" or target.dtype.kind in "biu":
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # xlogy(y, y) = y·log y with 0 at y = 0 (the log is taken of 1 there, not of 0)
        zero = _const(_arr(target) == 0)
        loss = _ops.where(zero, 0.0, target * _ops.where(zero, 1.0, target).log()) - target * input
    out = _reduce(loss, how)
    if reduction == "batchmean" and input.ndim != 0:
        out = out / input.shape[0]
    return out


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean"):
    """``ℓ = max(0, −y·(x₁ − x₂) + margin)``: y = 1 asks x₁ to rank above x₂, y = −1 below.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.margin_ranking_loss(minigrad.tensor([1.0, 0.0]), minigrad.tensor([0.0, 1.0]), minigrad.tensor([1.0, 1.0]))
    tensor(0.5000)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input1, input2, target = _as_tensor(input1), _as_tensor(input2), _as_tensor(target)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {_size(input1.shape)}, input2: {_size(input2.shape)}, target: {_size(target.shape)} "
        )
    return _reduce(_ops.clamp(-target * (input1 - input2) + float(margin), min=0.0), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean"):
    """``ℓ = 1 − cos(x₁, x₂)`` where y = 1, ``max(0, cos(x₁, x₂) − margin)`` where y = −1 (0 for other y).

    The cosine is PyTorch's: ``x₁·x₂ / √((‖x₁‖² + 10⁻¹²)(‖x₂‖² + 10⁻¹²))`` over the last
    dimension of 2-D inputs with a 1-D target, or of 1-D inputs with a 0-D target.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> x = minigrad.tensor([[1.0, 0.0], [1.0, 1.0]])
    >>> F.cosine_embedding_loss(x, minigrad.tensor([[0.0, 1.0], [1.0, 1.0]]), minigrad.tensor([1, -1]))
    tensor(1.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input1, input2, target = _as_tensor(input1), _as_tensor(input2), _as_tensor(target)
    dim = target.ndim
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != dim + 1 or input2.ndim != dim + 1:
        raise RuntimeError(
            f"{dim}D target tensor expects {dim + 1}D input tensors, but found inputs with sizes "
            f"{_sizes(input1)} and {_sizes(input2)}."
        )
    eps = 1e-12  # PyTorch's EPSILON in the squared magnitudes
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / (mag1 * mag2).sqrt()
    y = _arr(target)
    loss = (_ops.where(_const(y == 1), 1 - cos, 0.0)
            + _ops.where(_const(y == -1), _ops.clamp(cos - float(margin), min=0.0), 0.0))
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
    """``ℓ = max(0, margin + d(a, p) − d(a, n))``, d the :func:`pairwise_distance` (``p``, ``eps``).

    With ``swap``, d(a, n) is replaced by d(p, n) where that is smaller (the harder negative).

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> a = minigrad.tensor([[0.0, 0.0]])
    >>> F.triplet_margin_loss(a, minigrad.tensor([[0.0, 1.0]]), minigrad.tensor([[3.0, 0.0]]), eps=0.0)
    tensor(0.)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    anchor, positive, negative = _as_tensor(anchor), _as_tensor(positive), _as_tensor(negative)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: "
            f"anchor {anchor.ndim}D, positive {positive.ndim}D, and negative {negative.ndim}D inputs"
        )
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = _ops.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_ops.clamp(margin + d_pos - d_neg, min=0.0), reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):
    """Negative log-likelihood of ``target`` under Poisson(λ), dropping the constant log(y!).

    ``ℓ = e^x − y·x`` with ``log_input`` (x = log λ), else ``ℓ = x − y·log(x + eps)`` (x = λ).
    ``full`` adds Stirling's approximation of log(y!), ``y·log y − y + ½·log(2πy)``, where y > 1.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.poisson_nll_loss(minigrad.tensor([0.0, 1.0]), minigrad.tensor([1.0, 2.0]))
    tensor(0.8591)
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    target = _as_tensor(target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = _const(_arr(target) > 1)
        # The logs are taken only where they are kept (1 elsewhere): no log(0) in the gradient.
        y = _ops.where(big, target, _const(np.ones((), dtype=target.dtype)))
        stirling = y * y.log() - y + 0.5 * (2 * np.pi * y).log()
        loss = loss + _ops.where(big, stirling, 0.0)
    return _reduce(loss, reduction)


_C_TYPE_NAMES = {"int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                 "uint8": "unsigned char", "bool": "bool"}


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """Negative log-likelihood of ``target`` under N(input, var): ``ℓ = ½(log max(var, eps) + (x − y)²/max(var, eps))``.

    ``var`` is a tensor of the input's shape, or one dimension short of it or with one
    dimension of size 1 (one variance shared along it), or a number. ``full`` adds ½·log 2π.
    The clamp at ``eps`` is invisible to the gradient, as in PyTorch (which clamps a copy
    under no_grad).

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.gaussian_nll_loss(minigrad.tensor([0.0, 1.0]), minigrad.tensor([1.0, 1.0]), minigrad.tensor([1.0, 1.0]))
    tensor(0.2500)
    """
    target = _as_tensor(target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _const(np.ones(input.shape, dtype=input.dtype)) * float(var)
    else:
        var = _as_tensor(var)
        if (_arr(var) < 0).any():
            raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim
                  and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    if var.dtype.kind in "biu":  # PyTorch clamps var in place: a float eps does not fit an integer tensor
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_C_TYPE_NAMES[var.dtype.name]}")
    var = var + (_ops.clamp(var, min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * np.log(2 * np.pi)
    return _reduce(loss, reduction)


# -- padding and normalisation ------------------------------------------------------
def _padding_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """The source position of each output position along a padded dimension of size ``n``."""
    i = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i > n - 1, 2 * (n - 1) - i, i)
    return i % n  # circular


def pad(input, pad, mode: str = "constant", value=None):
    """Pad (or, with negative amounts, crop) the last ``len(pad) // 2`` dimensions.

    ``pad = (left, right)`` for the last dimension, then ``(top, bottom)`` for the one
    before, and so on. ``mode='constant'`` fills with ``value`` (0 by default); 'reflect'
    mirrors without repeating the edge, 'replicate' repeats it, 'circular' wraps around.
    The result is built with ``cat`` (constant) or ``index_select`` (the other modes), so
    the gradient of a padded position flows back to the element it was copied from.

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.pad(minigrad.tensor([[1.0, 2.0]]), (1, 2))
    tensor([[0., 1., 2., 0., 0.]])
    >>> F.pad(minigrad.tensor([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect")
    tensor([[[3., 2., 1., 2., 3., 2.]]])
    """
    pad = tuple(pad)
    for k, a in enumerate(pad):
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(a).__name__} at pos {k}")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    ndim, dims = input.ndim, len(pad) // 2
    if dims > ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = [(ndim - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(dims)]
    if mode == "constant":
        out = input
        fill = 0 if value is None else value
        if input.dtype.kind in "iu":
            info = np.iinfo(input.dtype)
            if not info.min <= fill <= info.max:  # PyTorch refuses a fill that would wrap around
                raise RuntimeError(f"value cannot be converted to type {input.dtype.name}_t without overflow")
        for d, before, after in pairs:
            n = out.shape[d]
            if n + before + after < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            if before < 0 or after < 0:
                out = out[(slice(None),) * d + (slice(max(-before, 0), n - max(-after, 0)),)]
            parts = []
            for amount in (before, after):
                shape = list(out.shape)
                shape[d] = max(amount, 0)
                parts.append(_const(np.full(shape, fill, dtype=input.dtype)))
            if before > 0 or after > 0:
                out = _ops.cat([parts[0], out, parts[1]], d)
        return out if out is not input else input.clone()
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if dims not in (1, 2, 3) or ndim - dims not in (1, 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input tensor.")
    if input.dtype == np.bool_ and mode != "circular":
        kernel = {"reflect": "reflection", "replicate": "replication"}[mode]
        raise NotImplementedError(f"\"{kernel}_pad{dims}d\" not implemented for 'Bool'")
    out = input
    for d, before, after in pairs:
        n = out.shape[d]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError("Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {d} of input {_sizes(input)}")
        if mode == "circular":
            if before > n or after > n:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if before < 0 or after < 0:  # PyTorch crops first, then wraps what is left
                out = out[(slice(None),) * d + (slice(max(-before, 0), n - max(-after, 0)),)]
                n, before, after = out.shape[d], max(before, 0), max(after, 0)
        out = out.index_select(d, _const(_padding_index(n, before, after, mode)))
    return out


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None):
    """``x / max(‖x‖_p, eps)``, the norm taken along ``dim`` (each vector scaled to unit p-norm).

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> F.normalize(minigrad.tensor([[3.0, 4.0], [0.0, 0.0]]))
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]])
    """
    if out is not None:
        raise TypeError("normalize(): out= is not supported; minigrad returns a new tensor")
    if input.dtype.kind in "biu":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_ops.torch_dtype_name(input.dtype)}")
    norm = _vector_norm(input, float(p), dim, True)
    return input / _ops.clamp(norm, min=float(eps))


# -- convolution, pooling, batch norm: defined beside their modules -----------------
from minigrad.nn.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, unfold  # noqa: E402
from minigrad.nn.normalization import batch_norm  # noqa: E402
from minigrad.nn.pooling import (  # noqa: E402
    adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d,
)

# NumPy's axis= and keepdims=: of the functions here that take dim or keepdim, PyTorch writes
# these two in C++, whose argument parser accepts the aliases (softmax, log_softmax and
# normalize are Python and do not): see minigrad.ops._spellings.
cosine_similarity = numpy_spellings(cosine_similarity)
pairwise_distance = numpy_spellings(pairwise_distance)
