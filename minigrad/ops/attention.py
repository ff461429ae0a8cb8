"""Scaled dot-product attention, composed from differentiable ops.

    A = softmax(Q Kᵀ · scale + M),   out = dropout(A) V

with M the mask: ``-inf`` where a query may not look (a boolean mask's False, the
future under ``is_causal``), or any float added to the scores. Every piece is an
existing op, so the gradient, and every higher order, comes from theirs.

A row whose keys are *all* masked has no softmax (0/0). PyTorch's
``scaled_dot_product_attention`` returns zeros there, with zero gradients; so
does this one (:func:`masked_softmax`): such rows are filled with 0 before the
softmax and zeroed after it, so no NaN reaches the output or any gradient.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import ops
from minigrad.ops._promotion import data_of
from minigrad.ops.layers import Dropout
from minigrad.ops.masking import masked_fill
from minigrad.random import _numpy_generator

__all__ = ["scaled_dot_product_attention", "masked_softmax"]


def masked_softmax(scores, dim: int = -1):
    """Softmax along ``dim``, giving zeros (and zero gradients) in rows that are all ``-inf``."""
    dead = np.all(np.isneginf(data_of(scores)), axis=dim, keepdims=True)
    if not dead.any():
        return ops.softmax(scores, dim)
    return masked_fill(ops.softmax(masked_fill(scores, dead, 0.0), dim), dead, 0.0)


def _dropout(x, p: float):
    if p == 0.0:
        return x
    if p == 1.0:
        return Dropout.apply(x, np.zeros(x.shape, dtype=x.dtype))
    keep = _numpy_generator().random(x.shape) >= p
    return Dropout.apply(x, keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p)))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False):
    """Attention of ``query`` (…, L, E) over ``key`` (…, S, E) and ``value`` (…, S, Ev).

    Parameters
    ----------
    query, key, value : Tensor
        Leading dimensions broadcast (batch, heads, ...).
    attn_mask : Tensor, optional, broadcastable to (…, L, S)
        Boolean: True where the query may attend. Float: added to the scores.
    dropout_p : float, default 0
        Dropout on the attention weights (the caller passes 0 in evaluation, as in PyTorch).
    is_causal : bool, default False
        Query ``i`` sees keys ``j ≤ i`` only (the lower triangle, aligned at the top
        left as in PyTorch); not allowed together with ``attn_mask``.
    scale : float, optional
        1/√E unless given.
    enable_gqa : bool, default False
        Grouped-query attention: key/value heads are repeated to match the query's.

    Returns
    -------
    Tensor of shape (…, L, Ev)

    Examples
    --------
    >>> import minigrad
    >>> import minigrad.nn.functional as F
    >>> q = minigrad.randn(2, 4, 5, 8)   # batch, heads, length, head dim
    >>> F.scaled_dot_product_attention(q, q, q, is_causal=True).shape
    minigrad.Size([2, 4, 5, 8])
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        reps = query.shape[-3] // key.shape[-3]
        key = _repeat_heads(key, reps)
        value = _repeat_heads(value, reps)
    e, length, source = query.shape[-1], query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    scores = ops.matmul(query, ops.transpose(key, -2, -1)) * scale
    if is_causal:
        scores = masked_fill(scores, ~np.tri(length, source, dtype=bool), float("-inf"))
    if attn_mask is not None:
        m = data_of(attn_mask)
        if np.asarray(m).dtype == np.bool_:
            scores = _fill_masked(scores, ~np.asarray(m))
        else:
            scores = scores + attn_mask
    weights = _dropout(masked_softmax(scores, -1), float(dropout_p))
    return ops.matmul(weights, value)


def _fill_masked(scores, blocked: np.ndarray):
    """``-inf`` where ``blocked`` (which may have fewer leading dims than the scores)."""
    shape = np.broadcast_shapes(blocked.shape, scores.shape)
    if shape != tuple(scores.shape):
        scores = ops.expand(scores, shape)
    return masked_fill(scores, blocked, float("-inf"))


def _repeat_heads(x, reps: int):
    """(…, Hkv, S, E) → (…, Hkv·reps, S, E), each head repeated ``reps`` times in a row."""
    lead, h, s, e = tuple(x.shape[:-3]), x.shape[-3], x.shape[-2], x.shape[-1]
    x = ops.expand(ops.unsqueeze(x, -3), lead + (h, reps, s, e))
    return ops.reshape(x, lead + (h * reps, s, e))
