"""Scaled dot-product attention as one fused op, :class:`ScaledDotProductAttention`.

    A = softmax(Q Kᵀ · scale + M),   out = dropout(A) V

with M the mask: ``-inf`` where a query may not look (a boolean mask's False, the
future under ``is_causal``), or any float added to the scores (as PyTorch adds it).

A row whose keys are *all* masked has no softmax (0/0). PyTorch's
``scaled_dot_product_attention`` returns zeros there, with zero gradients; so
does this one: such rows are given weights 0, so no NaN reaches the output or any
gradient. :func:`masked_softmax` does the same for the layers that build attention
from ops (``nn.MultiheadAttention``, which returns the weights).
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import ops
from minigrad.autograd import Primitive
from minigrad.ops._promotion import data_of, torch_dtype_name
from minigrad.ops.masking import masked_fill
from minigrad.random import _numpy_generator

__all__ = ["ScaledDotProductAttention", "scaled_dot_product_attention", "masked_softmax"]


def masked_softmax(scores, dim: int = -1):
    """Softmax along ``dim``, giving zeros (and zero gradients) in rows that are all ``-inf``."""
    dead = np.all(np.isneginf(data_of(scores)), axis=dim, keepdims=True)
    if not dead.any():
        return ops.softmax(scores, dim)
    return masked_fill(ops.softmax(masked_fill(scores, dead, 0.0), dim), dead, 0.0)


class ScaledDotProductAttention(Primitive):
    """out = (P·D) V,  P = softmax(S) over the keys,  S = Q Kᵀ·scale + M.

    Q (…, L, E), K (…, S, E), V (…, S, Ev), leading dims broadcast. M is the mask
    (a float tensor, whose gradient is returned, or a constant of 0 and −inf);
    D the dropout mask, a constant of 0 and 1/(1 − p) drawn by the caller, or none.
    A row of S that is −inf everywhere gets P = 0.

    VJP, with P̄ = (Ō Vᵀ)·D and S̄ = P·(P̄ − Σ_keys P̄·P) (the softmax's):
    V̄ = (P·D)ᵀ Ō,   Q̄ = S̄ K·scale,   K̄ = S̄ᵀ Q·scale,   M̄ = S̄.

    One node instead of the seven of the composition (matmul, scale, mask, softmax,
    dropout, matmul, and the transpose): its (…, L, S) arrays are private, so forward
    and backward work on them in place. Forward + backward of the GPT benchmark's
    causal attention (32 × 4 heads × 64 × 32, float32, one thread), unpacking of q, k, v
    included, take 1.25x less time than the composition's. A first-order backward uses P from forward;
    recording a graph, it recomputes P from Q and K with differentiable ops (the
    same :func:`attention_weights`), so every higher order follows.
    """

    @staticmethod
    def forward(ctx, query, key, value, mask, dropout=None, scale=1.0):
        p = attention_weights(query, key, mask, scale)
        ctx.save_for_backward(query, key, value, mask)
        ctx.p, ctx.dropout, ctx.scale = p, dropout, scale
        return np.matmul(p if dropout is None else p * dropout, value)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask = ctx.saved_tensors
        dropout, scale = ctx.dropout, ctx.scale
        need_q, need_k, need_v, need_m = ctx.needs_input_grad
        own = isinstance(grad, np.ndarray)  # arrays: buffers made here are private, reuse them
        p = ctx.p if own else attention_weights(q, k, mask, scale)
        gv = np.matmul(np.swapaxes(p if dropout is None else p * dropout, -1, -2), grad) if need_v else None
        if not (need_q or need_k or need_m):
            return None, None, gv, None
        gp = np.matmul(grad, np.swapaxes(v, -1, -2))
        if dropout is not None:
            gp = np.multiply(gp, dropout, out=gp if own else None)
        row = np.sum(gp * p, axis=-1, keepdims=True)
        gs = np.multiply(p, np.subtract(gp, row, out=gp if own else None), out=gp if own else None)
        gq = np.matmul(gs, k) * scale if need_q else None
        gk = np.matmul(np.swapaxes(gs, -1, -2), q) * scale if need_k else None
        return gq, gk, gv, gs if need_m else None


def attention_weights(query, key, mask, scale):
    """P = softmax(Q Kᵀ·scale + M) over the keys, 0 in rows where every score is −inf.

    On arrays (forward) the one (…, L, S) buffer is updated in place (4 fewer
    arrays of that size); on tensors (a backward that records) the same
    operations record a graph.
    """
    s = np.matmul(query * scale, np.swapaxes(key, -1, -2))  # scaling Q: E ≤ S values per row, not S
    own = type(s) is np.ndarray
    if mask is not None:
        fits = own and np.broadcast_shapes(s.shape, np.shape(mask)) == s.shape and \
            np.result_type(s, mask) == s.dtype
        s = np.add(s, mask, out=s if fits else None)
        own = type(s) is np.ndarray
    # Shifted by each row's max, a constant (the softmax does not depend on it); a row that is
    # −inf everywhere is shifted by 0 instead, and its sum of 0 is replaced by 1: weights 0/1.
    top = np.max(data_of(s), axis=-1, keepdims=True, initial=-np.inf)
    dead = top == -np.inf
    top[dead] = 0
    e = np.exp(np.subtract(s, top, out=s if own else None), out=s if own else None)
    total = np.sum(e, axis=-1, keepdims=True) + dead.astype(top.dtype)
    return np.divide(e, total, out=e if own else None)


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
    dtypes = [data_of(t).dtype for t in (query, key, value)]
    if not dtypes[0] == dtypes[1] == dtypes[2]:
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: {} key.dtype: {} "
                           "and value.dtype: {} instead.".format(*(torch_dtype_name(d).lower() for d in dtypes)))
    if dtypes[0].kind != "f":  # PyTorch's CPU kernels compute attention in floating point only
        raise RuntimeError(f"expected scalar type Float but found {torch_dtype_name(dtypes[0])}")
    mask_dtype = None if attn_mask is None else np.asarray(data_of(attn_mask)).dtype
    if mask_dtype is not None and mask_dtype != np.bool_ and mask_dtype != dtypes[0]:
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got attn_mask.dtype: "
                           f"{torch_dtype_name(mask_dtype).lower()} and  query.dtype: {torch_dtype_name(dtypes[0]).lower()} instead.")
    e, length, source = query.shape[-1], query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    mask = attn_mask
    if is_causal:
        mask = _blocking(~np.tri(length, source, dtype=bool), dtypes[0])
    elif mask_dtype == np.bool_:
        mask = _blocking(~np.asarray(data_of(attn_mask)), dtypes[0])  # PyTorch: False → −inf, added
    dropout = None
    if dropout_p > 0.0:
        shape = np.broadcast_shapes(tuple(query.shape[:-2]) + (length, source), tuple(key.shape[:-2]) + (length, source),
                                    () if mask is None else np.shape(mask))
        keep = np.zeros(shape, dtype=bool) if dropout_p >= 1.0 else _numpy_generator().random(shape) >= dropout_p
        dropout = keep.astype(dtypes[0]) * dtypes[0].type(1.0 / (1.0 - dropout_p) if dropout_p < 1.0 else 0.0)
    return ScaledDotProductAttention.apply(query, key, value, mask, dropout=dropout, scale=scale)


def _blocking(blocked: np.ndarray, dtype) -> np.ndarray:
    """The additive mask of a boolean one: −inf where ``blocked``, 0 elsewhere."""
    return np.where(blocked, dtype.type(-np.inf), dtype.type(0))


def _repeat_heads(x, reps: int):
    """(…, Hkv, S, E) → (…, Hkv·reps, S, E), each head repeated ``reps`` times in a row."""
    lead, h, s, e = tuple(x.shape[:-3]), x.shape[-3], x.shape[-2], x.shape[-1]
    x = ops.expand(ops.unsqueeze(x, -3), lead + (h, reps, s, e))
    return ops.reshape(x, lead + (h * reps, s, e))
