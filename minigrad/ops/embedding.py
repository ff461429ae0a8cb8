"""Embedding lookups: :class:`Embedding` (one row per index) and the bags of
:class:`EmbeddingBagSum` (sum/mean, per-sample weights) and :class:`EmbeddingBagMax`.

All are built on the row gather and index-add kernels (:mod:`minigrad.ops.indexing`):
the forward gathers rows, the VJP index-adds the output gradient back into the
table's rows, so rows never looked up get 0 and repeated rows accumulate. With
``sparse=True`` the table's gradient is row-sparse (:func:`sparse_rows`).
Argument checking lives in :mod:`minigrad.nn.functional` (``F.embedding``,
``F.embedding_bag``); these classes assume well-formed arrays.

Notation: ȳ is the gradient arriving at the output, x̄ the one sent to input x.
"""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive, function
from minigrad.ops.indexing import gather, gather_rows, index_add
from minigrad.sparse import SparseTensor


class Embedding(Primitive):
    """y[..., :] = W[idx[...], :]: gather rows of the (V, D) table W (:class:`~minigrad.ops.indexing.Gather`'s forward).

    VJP (an index-add): W̄[k] = Σ_{i: idx_i = k, idx_i ≠ padding_idx} s_k · ȳ_i,
    with s_k = 1/count(k in idx) when ``scale_grad_by_freq`` else 1. Rows never
    looked up get 0; a row looked up twice gets both output gradients. This is
    ``one_hot(idx) @ W`` without ever building the (n, V) one-hot matrix.
    With ``sparse`` W̄ is a row-sparse :class:`~minigrad.sparse.SparseTensor`
    holding the (uncoalesced) indices and rows instead of a (V, D) array; a sparse
    gradient cannot be recorded for higher order. The indices get no gradient.
    """

    @staticmethod
    def forward(ctx, idx, weight, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
        ctx.idx, ctx.num_rows = idx, weight.shape[0]
        ctx.padding_idx, ctx.scale, ctx.sparse = padding_idx, scale_grad_by_freq, sparse
        return gather_rows(weight, idx)

    @staticmethod
    def backward(ctx, grad):
        idx = ctx.idx.reshape(-1)
        rows = np.reshape(grad, (idx.shape[0], np.shape(grad)[-1]))
        copied = False
        if ctx.scale and idx.size:
            rows, copied = _scale_by_frequency(rows, idx, ctx.num_rows), True
        if ctx.padding_idx >= 0 and idx.size:
            keep = idx != ctx.padding_idx
            if not keep.all():
                idx, rows, copied = idx[keep], rows[keep], True
        if ctx.sparse:
            return None, sparse_rows(ctx.num_rows, idx, rows, copied)
        return None, index_add(ctx.num_rows, idx, rows)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` (V, D) at the integer positions ``indices``, any shape (:class:`Embedding`).

    PyTorch's ``torch.embedding``, weight first; ``padding_idx`` -1 (or any negative) means
    none. :func:`minigrad.nn.functional.embedding` is the ``(input, weight)`` form with
    PyTorch's module options (``max_norm``, negative ``padding_idx`` counted from the end).
    """
    idx = index_array(indices, "embedding")
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got a weight of shape {tuple(weight.shape)}")
    # An index tensor goes in as itself (its array is idx): backward reads the saved indices,
    # and apply version-checks what an input tensor holds, so refilling the indices in place
    # before backward is refused, as in PyTorch, instead of sending the gradient elsewhere.
    return Embedding.apply(indices if isinstance(indices, function.Tensor) else idx, weight,
                           padding_idx=int(padding_idx) if padding_idx >= 0 else -1,
                           scale_grad_by_freq=bool(scale_grad_by_freq), sparse=bool(sparse))


def index_array(indices, name: str) -> np.ndarray:
    """``indices`` as an int64 or int32 array, or PyTorch's error naming the dtype."""
    idx = np.asarray(indices)
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
            f"Long, Int; but got {idx.dtype} instead (while checking arguments for {name})"
        )
    return idx


def _scale_by_frequency(rows, idx, num_rows):
    """Row i of ``rows`` × 1/count(idx_i in idx): ``scale_grad_by_freq``'s gradient scaling."""
    counts = np.bincount(idx, minlength=num_rows)
    return rows * (1.0 / counts[idx]).astype(rows.dtype)[:, None]


def sparse_rows(num_rows, idx, rows, owned=False):
    """The row-sparse gradient of a (num_rows, D) table: rows (n, D) at the row indices idx.

    The sparse gradient owns its values (optimizers and clipping scale them in place),
    so ``rows`` is copied unless ``owned``. Only a first-order backward gives one.
    """
    if isinstance(rows, function.Tensor):
        raise RuntimeError(
            "sparse=True gradients cannot be differentiated again: backward with create_graph=True "
            "through an Embedding or EmbeddingBag with sparse=True is not supported. Use sparse=False."
        )
    return SparseTensor(idx, rows if owned else rows.copy(), (num_rows, rows.shape[1]))


def _bag_sum(rows, starts, lengths, num_bags, ufunc=np.add):
    """Reduce consecutive row segments [starts[b], starts[b] + lengths[b]) with ``ufunc.reduceat``.

    The segments tile ``rows``. ``reduceat`` would return ``rows[start]`` for an
    empty segment (and a start equal to len(rows) is out of bounds), so it gets
    the starts of the non-empty bags only - each of those segments then runs to
    the next one's start, as it should - and empty bags stay 0.
    """
    nonempty = lengths > 0
    if nonempty.all() and num_bags:
        return ufunc.reduceat(rows, starts, axis=0)
    out = np.zeros((num_bags,) + rows.shape[1:], dtype=rows.dtype)
    if nonempty.any():
        out[nonempty] = ufunc.reduceat(rows, starts[nonempty], axis=0)
    return out


def _kept_per_bag(keep, starts, lengths):
    """The number of entries of each bag that ``keep`` (a mask over the flat indices) keeps."""
    return _bag_sum(keep[:, None].astype(np.int64), starts, lengths, starts.shape[0])[:, 0]


def _inverse_counts(keep, starts, lengths, dtype):
    """1/c_b for 'mean' bags, c_b the bag's non-pad entries (``keep``; all when None); 1 for empty bags."""
    counts = lengths if keep is None else _kept_per_bag(keep, starts, lengths)
    return (1.0 / np.maximum(counts, 1)).astype(dtype)


class EmbeddingBagSum(Primitive):
    """Bags of rows, summed or averaged: y_b = (1/c_b) Σ_{i ∈ bag b, idx_i ≠ pad} w_i · W[idx_i].

    Bag b is the run [starts[b], starts[b] + lengths[b]) of the flat index array
    (the runs tile it); w_i are the per-sample weights (1 if None); c_b = number
    of non-pad entries for 'mean' (1 for 'sum'); an empty bag gives zeros.
    Forward: the gather kernel, then a segment sum (``np.add.reduceat``).
    VJP: W̄ = index-add over i of (w_i/c_{b(i)}) · ȳ_{b(i)} (× 1/count(idx_i) with
    scale_grad_by_freq; pad entries skipped), and w̄_i = ⟨W[idx_i], ȳ_{b(i)}⟩ (0 at pads).
    """

    node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, idx, weight, per_sample_weights, starts=None, lengths=None, mean=False,
                padding_idx=-1, scale_grad_by_freq=False, sparse=False):
        num_bags = starts.shape[0]
        keep = None
        if padding_idx >= 0 and idx.size:
            keep = idx != padding_idx
            if keep.all():
                keep = None
        ctx.idx, ctx.keep, ctx.num_rows, ctx.psw = idx, keep, weight.shape[0], per_sample_weights
        ctx.scale, ctx.sparse, ctx.starts, ctx.lengths = scale_grad_by_freq, sparse, starts, lengths
        ctx.inv_count, ctx.padding_idx = None, padding_idx
        if per_sample_weights is None:
            # Fused kernel: sums each bag's rows straight into the output, without the
            # (n, D) array of gathered rows and the slow np.add.reduceat over it
            # (batch 4096 x 32 tokens, D = 64: 55 ms -> 3 ms). None: NumPy backend.
            if mean:
                ctx.inv_count = _inverse_counts(keep, starts, lengths, weight.dtype)
            out = kernels.bag_sum(weight, idx, starts, lengths, ctx.inv_count, None, padding_idx)
            if out is not None:
                return out
        rows = kernels.gather(weight, idx)
        if per_sample_weights is not None:
            # w̄_i = ⟨W[idx_i], ȳ_b⟩ and W̄ scales by w_i: both are inputs of backward.
            ctx.save_for_backward(weight, per_sample_weights)
            ctx.rows = rows  # the unweighted rows W[idx], for a first-order backward
            rows = rows * per_sample_weights[:, None]
        if keep is not None:
            rows[~keep] = 0
        out = _bag_sum(rows, starts, lengths, num_bags)
        if mean:
            ctx.inv_count = _inverse_counts(keep, starts, lengths, out.dtype)
            out *= ctx.inv_count[:, None]
        return out

    @staticmethod
    def backward(ctx, grad):
        _, need_w, need_psw = ctx.needs_input_grad
        idx, keep = ctx.idx, ctx.keep
        first_order = isinstance(grad, np.ndarray)
        if first_order and need_w and not need_psw and ctx.psw is None and not ctx.scale and not ctx.sparse:
            # Fused kernel: adds (1/c_b)·ȳ_b into each entry's row directly, without the
            # (n, D) array of per-entry gradients. None: NumPy backend.
            gw = kernels.bag_sum_backward(grad, idx, ctx.starts, ctx.lengths, ctx.num_rows,
                                          ctx.inv_count, ctx.padding_idx)
            if gw is not None:
                return None, gw, None
        g = grad * ctx.inv_count[:, None] if ctx.inv_count is not None else grad
        # the bag of every entry, to gather ȳ_{b(i)} per entry: (n, D)
        seg = np.repeat(np.arange(ctx.starts.shape[0], dtype=np.int64), ctx.lengths)
        rows_grad = gather(g, seg)
        weight, psw = ctx.saved_tensors if ctx.psw is not None else (None, None)
        gpsw = gw = None
        if need_psw:
            rows = ctx.rows if first_order else gather(weight, idx)
            gpsw = np.sum(rows * rows_grad, axis=1)
            if keep is not None:
                gpsw = np.where(keep, gpsw, np.zeros((), dtype=gpsw.dtype))
        if need_w:
            if psw is not None:
                rows_grad = rows_grad * np.expand_dims(psw, 1)
            if ctx.scale and idx.size:
                rows_grad = _scale_by_frequency(rows_grad, idx, ctx.num_rows)
            if keep is not None:
                idx, rows_grad = idx[keep], rows_grad[keep]
            if ctx.sparse:
                gw = sparse_rows(ctx.num_rows, idx, rows_grad, owned=True)
            else:
                gw = index_add(ctx.num_rows, idx, rows_grad)
        return None, gw, gpsw


class EmbeddingBagMax(Primitive):
    """Per-dimension maximum over each bag: y_{b,d} = max_{i ∈ bag b, idx_i ≠ pad} W[idx_i, d].

    Empty bags (or bags of pads only) give 0. VJP: ȳ_{b,d} goes to W[idx_{a(b,d)}, d]
    where a(b, d) is the first entry of bag b reaching the maximum in dimension d.
    NaN as PyTorch scans a bag (keep the first entry, replace it by a strictly greater one):
    a NaN first entry is the bag's maximum, a NaN after it is passed over.
    """

    node_name = "EmbeddingBagBackward0"

    @staticmethod
    def forward(ctx, idx, weight, starts=None, lengths=None, padding_idx=-1):
        num_bags, d = starts.shape[0], weight.shape[1]
        n = idx.shape[0]
        rows = kernels.gather(weight, idx)
        nonempty = lengths > 0
        if padding_idx >= 0 and n:
            pads = idx == padding_idx
            if pads.any():
                rows[pads] = -np.inf  # never the maximum of a bag holding a non-pad entry
                nonempty = _kept_per_bag(~pads, starts, lengths) > 0
        out = _bag_sum(rows, starts, lengths, num_bags, np.fmax)  # fmax passes over NaN
        out[~nonempty] = 0  # empty bags and bags of pads only
        # first entry of each bag reaching the max, per dimension, without a loop over bags
        seg = np.repeat(np.arange(num_bags, dtype=np.int64), lengths)
        positions = np.arange(n, dtype=np.int64)
        pos = np.where(rows == out[seg], positions[:, None], n)
        arg = _bag_sum(pos, starts, lengths, num_bags, np.minimum)
        if n and np.isnan(rows).any():
            first = starts if padding_idx < 0 else \
                _bag_sum(np.where(idx == padding_idx, n, positions), starts, lengths, num_bags, np.minimum)
            first = np.minimum(first, n - 1)[:, None]
            nan_first = np.isnan(rows[first, np.arange(d)]) & nonempty[:, None]
            out[nan_first] = np.nan
            arg = np.where(nan_first, first, arg)
        valid = (arg < n) & nonempty[:, None]
        ctx.valid, ctx.num_rows = valid, weight.shape[0]
        ctx.arg_rows = idx[np.minimum(arg, n - 1)] if n else np.zeros_like(arg)
        return out

    @staticmethod
    def backward(ctx, grad):
        # An index-add of single values: ȳ_{b,d} into entry (a(b, d), d) of W̄ seen as (V·D, 1).
        v, d = ctx.num_rows, np.shape(grad)[1]
        flat = (ctx.arg_rows * d + np.arange(d)[None, :])[ctx.valid]
        gw = index_add(v * d, flat, np.reshape(grad[ctx.valid], (-1, 1)))
        return None, np.reshape(gw, (v, d))
