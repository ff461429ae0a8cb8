"""The differentiable ops that :mod:`minigrad.nn` needs beyond the generic tensor ops.

Each class is one fused ``Primitive``: its forward and its vector-Jacobian
product (VJP) sit on one screen, and one graph node replaces the handful of
small ops it would otherwise take (fewer temporaries, one pass over memory).

* layers: :class:`Linear`, :class:`LeakyReLU`, :class:`GELU`, :class:`LayerNorm`, :class:`Dropout`
* lookups (the embedding itself is :class:`minigrad.ops.indexing.Embedding`):
  :class:`EmbeddingBagSum` (sum/mean bags, per-sample weights), :class:`EmbeddingBagMax`
* losses: :class:`CrossEntropy`, :class:`CrossEntropyProbs`, :class:`NLLLoss`, :class:`BCELoss`,
  :class:`BCEWithLogits`, :class:`MSELoss`, :class:`L1Loss`, :class:`SmoothL1Loss`, :class:`HuberLoss`

Argument checking lives in :mod:`minigrad.nn.functional`; these classes assume
well-formed arrays. Row lookups and their backward go through
:mod:`minigrad.kernels` (gather, index-add) only.

Notation: ȳ is the gradient arriving at the output, x̄ the one sent to input x.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.autograd import Primitive
from minigrad.ops.elementwise import erf, sign_or_zero
from minigrad.ops.indexing import gather, index_add, index_put_accumulate, sparse_rows
from minigrad.ops.softmax import LogSoftmax

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# -- reductions shared by the losses ---------------------------------------------------
def _reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    return np.asarray(loss.mean() if loss.size else np.nan, dtype=loss.dtype)


def _unreduce(grad: np.ndarray, reduction: str, n: int) -> np.ndarray:
    """The VJP of :func:`_reduce`: ȳ per element (broadcastable against the elementwise loss)."""
    if reduction == "mean":
        return grad / n if n else grad
    return grad


def _weighted_reduce(ctx, loss: np.ndarray, wt: np.ndarray, reduction: str) -> np.ndarray:
    """The class-loss reductions: 'mean' divides by the summed target weights Σ w_{t_n}
    (not by N), which is why it is not :func:`_reduce`; the divisor is kept on ``ctx``."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=loss.dtype)
    ctx.denom = wt.sum()
    # Nothing counted (all targets ignored, or zero weights): 0/0, which PyTorch reports as nan.
    return np.asarray(loss.sum() / ctx.denom if ctx.denom != 0 else np.nan, dtype=loss.dtype)


def _per_row_grad(grad, reduction, m, denom):
    """ȳ_n of each row of a class loss (the VJP of :func:`_weighted_reduce`)."""
    if reduction == "none":
        return grad
    if reduction == "sum":
        return np.broadcast_to(grad, (m,))
    with np.errstate(divide="ignore", invalid="ignore"):  # denom 0: the counted rows get nan, as in PyTorch
        return np.broadcast_to(grad / denom, (m,))


# -- layers --------------------------------------------------------------------------
class Linear(Primitive):
    """y = x Wᵀ + b, with x (*, in), W (out, in), b (out,) or None.

    VJP: x̄ = ȳ W,   W̄ = ȳᵀ x (summed over all leading dims),   b̄ = Σ ȳ over leading dims.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        y = np.matmul(x, weight.T)
        if bias is not None:
            y += bias  # y is a fresh array; adding in place saves a temporary
        return y

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = np.matmul(grad, weight) if need_x else None
        gw = gb = None
        if need_w or need_b:
            g2 = np.reshape(grad, (-1, np.shape(grad)[-1]))
            if need_w:
                gw = np.matmul(np.transpose(g2), np.reshape(x, (np.shape(g2)[0], np.shape(x)[-1])))
            if need_b:
                gb = np.sum(g2, axis=0)
        return gx, gw, gb


class LeakyReLU(Primitive):
    """y = x if x > 0 else s·x.   VJP: x̄ = ȳ if x > 0 else s·ȳ."""

    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.slope = negative_slope
        return np.where(x > 0, x, x * x.dtype.type(negative_slope))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return np.where(np.greater(x, 0), grad, grad * grad.dtype.type(ctx.slope))


class GELU(Primitive):
    """y = x·Φ(x), Φ the standard normal CDF ('none'), or its tanh approximation ('tanh').

    'none':  Φ(x) = ½(1 + erf(x/√2));   VJP: x̄ = ȳ·(Φ(x) + x·φ(x)),  φ(x) = e^{-x²/2}/√(2π).
    'tanh':  y = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³);
             VJP: x̄ = ȳ·(½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)).
    """

    @staticmethod
    def forward(ctx, x, approximate="none"):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))  # x*x*x: np.power is ~50x slower
            return (0.5 * x * (1.0 + t)).astype(x.dtype, copy=False)
        return (0.5 * x * (1.0 + erf(x * _SQRT1_2))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))  # x*x*x: np.power is ~50x slower
            du = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x * x)
            d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du
        else:
            cdf = 0.5 * (1.0 + erf(x * _SQRT1_2))
            d = cdf + x * _INV_SQRT_2PI * np.exp(-0.5 * x * x)
        return grad * d


class Dropout(Primitive):
    """y = x · m / (1 − p), m ~ Bernoulli(1 − p) per element (inverted dropout).

    The mask is drawn by the caller (from minigrad's generator) and passed in,
    already scaled: ``mask`` holds 0 or 1/(1 − p).   VJP: x̄ = ȳ · mask.
    """

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.mask, None


class LayerNorm(Primitive):
    """Normalise over the last k dims: x̂ = (x − μ)/√(σ² + ε);  y = x̂·γ + β.

    μ, σ² are the mean and the biased variance over the normalised dims (n elements).
    VJP: γ̄ = Σ ȳ·x̂,  β̄ = Σ ȳ (sums over the leading dims);
         with ĝ = ȳ·γ:  x̄ = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(σ² + ε)  (means over the normalised dims).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, k=1, eps=1e-5):
        axes = tuple(range(x.ndim - k, x.ndim))
        xhat, rstd = _normalize(x, axes, eps)
        ctx.save_for_backward(x, weight)
        # Kept for a first-order backward; recording a graph, backward recomputes them from x.
        ctx.xhat, ctx.rstd, ctx.axes, ctx.eps = xhat, rstd, axes, eps
        y = xhat * weight if weight is not None else xhat
        if bias is not None:
            y = y + bias
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        axes = ctx.axes
        if isinstance(grad, np.ndarray):
            xhat, rstd = ctx.xhat, ctx.rstd
        else:
            xhat, rstd = _normalize(x, axes, ctx.eps)  # x̂ and 1/σ depend on x: differentiate them too
        need_x, need_w, need_b = ctx.needs_input_grad
        lead = tuple(range(np.ndim(grad) - len(axes)))
        gw = np.sum(grad * xhat, axis=lead) if need_w else None
        gb = np.sum(grad, axis=lead) if need_b else None
        gx = None
        if need_x:
            gh = grad * weight if weight is not None else grad
            gx = (gh - np.mean(gh, axis=axes, keepdims=True) - xhat * np.mean(gh * xhat, axis=axes, keepdims=True)) * rstd
        return gx, gw, gb


def _normalize(x, axes, eps):
    """x̂ = (x − μ)/√(σ² + ε) and 1/√(σ² + ε) over ``axes`` (arrays, or tensors when recording)."""
    xc = x - np.mean(x, axis=axes, keepdims=True)
    rstd = 1.0 / np.sqrt(np.mean(xc * xc, axis=axes, keepdims=True) + eps)
    return xc * rstd, rstd


# -- lookups -------------------------------------------------------------------------
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


class EmbeddingBagSum(Primitive):
    """Bags of rows, summed or averaged: y_b = (1/c_b) Σ_{i ∈ bag b, idx_i ≠ pad} w_i · W[idx_i].

    Bag b is the run [starts[b], starts[b] + lengths[b]) of the flat index array
    (the runs tile it); w_i are the per-sample weights (1 if None); c_b = number
    of non-pad entries for 'mean' (1 for 'sum'); an empty bag gives zeros.
    Forward: the gather kernel, then a segment sum (``np.add.reduceat``).
    VJP: W̄ = index-add over i of (w_i/c_{b(i)}) · ȳ_{b(i)} (× 1/count(idx_i) with
    scale_grad_by_freq; pad entries skipped), and w̄_i = ⟨W[idx_i], ȳ_{b(i)}⟩ (0 at pads).
    """

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
                counts = lengths
                if keep is not None:
                    counts = _bag_sum(keep[:, None].astype(np.int64), starts, lengths, num_bags)[:, 0]
                ctx.inv_count = (1.0 / np.maximum(counts, 1)).astype(weight.dtype)
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
            counts = lengths
            if keep is not None:
                counts = _bag_sum(keep[:, None].astype(np.int64), starts, lengths, num_bags)[:, 0]
            inv = (1.0 / np.maximum(counts, 1)).astype(out.dtype)
            out *= inv[:, None]
            ctx.inv_count = inv
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
                counts = np.bincount(idx, minlength=ctx.num_rows)
                rows_grad = rows_grad * (1.0 / counts[idx]).astype(rows_grad.dtype)[:, None]
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
    """

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
                nonempty = _bag_sum((~pads)[:, None].astype(np.int64), starts, lengths, num_bags)[:, 0] > 0
        out = _bag_sum(rows, starts, lengths, num_bags, np.maximum)
        out[~nonempty] = 0  # empty bags and bags of pads only
        # first entry of each bag reaching the max, per dimension, without a loop over bags
        seg = np.repeat(np.arange(num_bags, dtype=np.int64), lengths)
        pos = np.where(rows == out[seg], np.arange(n, dtype=np.int64)[:, None], n)
        arg = _bag_sum(pos, starts, lengths, num_bags, np.minimum)
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


# -- losses --------------------------------------------------------------------------
class _Pointwise(Primitive):
    """Shared plumbing of the regression losses: ℓ = f(x − y) reduced; x̄ = f'(x − y)·ȳ, ȳ_t = −x̄."""

    @staticmethod
    def _f(d, param):  # pragma: no cover - abstract
        """The pointwise loss of the difference d (param: β or δ where the loss has one)."""
        raise NotImplementedError

    @staticmethod
    def _df(d, param):  # pragma: no cover - abstract
        """Its derivative with respect to d."""
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx, x, y, reduction="mean", param=1.0):
        d = np.subtract(x, y)
        ctx.save_for_backward(x, y)
        ctx.reduction, ctx.param = reduction, param
        return _reduce(cls._f(d, param).astype(d.dtype, copy=False), reduction)

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        d = np.subtract(x, y)  # recomputed, not kept: at higher order it is differentiated too
        g = _unreduce(grad, ctx.reduction, np.size(d)) * cls._df(d, ctx.param)
        return g, (-g if ctx.needs_input_grad[1] else None)


class MSELoss(_Pointwise):
    """ℓ = (x − y)².   VJP: x̄ = 2(x − y)·ȳ,  ȳ_target = −x̄."""

    @staticmethod
    def _f(d, p):
        return d * d

    @staticmethod
    def _df(d, p):
        return 2 * d


class L1Loss(_Pointwise):
    """``ℓ = |x − y|``.   VJP: x̄ = sign(x − y)·ȳ (0 at x = y and where x − y is NaN, as PyTorch),  ȳ_target = −x̄."""

    @staticmethod
    def _f(d, p):
        return np.abs(d)

    @staticmethod
    def _df(d, p):
        return sign_or_zero(d)


class SmoothL1Loss(_Pointwise):
    """``ℓ = ½d²/β if |d| < β else |d| − ½β``, d = x − y (β = 0: L1).

    VJP: ``x̄ = ȳ·(d/β if |d| < β else sign d)``,  ȳ_target = −x̄.
    """

    @staticmethod
    def _f(d, beta):
        if beta == 0:
            return np.abs(d)
        a = np.abs(d)
        return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def _df(d, beta):
        if beta == 0:
            return sign_or_zero(d)
        return np.where(np.abs(d) < beta, d / beta, np.sign(d))


class HuberLoss(_Pointwise):
    """``ℓ = ½d² if |d| < δ else δ(|d| − ½δ)``, d = x − y.

    VJP: ``x̄ = ȳ·(d if |d| < δ else δ·sign d)``,  ȳ_target = −x̄.
    """

    @staticmethod
    def _f(d, delta):
        a = np.abs(d)
        return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def _df(d, delta):
        return np.where(np.abs(d) < delta, d, delta * np.sign(d))


def _log_softmax_rows(x2):
    """log_softmax over dim 1. A row holding NaN, or +inf beside +inf, has no softmax: its
    result is NaN without a warning (such rows are usually ignored ones, or the caller's NaN)."""
    with np.errstate(invalid="ignore"):
        shifted = x2 - x2.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class CrossEntropy(Primitive):
    """Cross-entropy of logits x (M, C) against class indices t (M,), fused with log-softmax.

    With p = log_softmax(x), m_n = [t_n ≠ ignore_index], ε the label smoothing:
        ℓ_n = m_n·((1−ε)·(−w_{t_n} p_{n,t_n}) + (ε/C)·Σ_c −w_c p_{n,c});
    'mean' divides Σℓ_n by Σ_n m_n w_{t_n}, 'sum' by 1 (nothing counted: 'mean' is nan).
    VJP: with a_{n,c} = −m_n·((1−ε)·w_{t_n}[c = t_n] + (ε/C)·w_c) (= ∂ℓ_n/∂p_{n,c}),
        x̄_n = ȳ_n·(a_n − softmax(x_n)·Σ_c a_{n,c}).
    An ignored row is selected out, not multiplied by m_n = 0: its ℓ_n and x̄_n are exactly 0
    even where its logits are NaN or ±inf (masked positions), so they cannot poison the rest.
    Stable for any logits: only x − max(x) is exponentiated.
    The caller moves the class dim last and flattens (x of shape (N, C, d…) → (N·d…, C)).
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        m, c = x.shape
        logp = _log_softmax_rows(x)
        mask = target != ignore_index
        safe_t = np.where(mask, target, 0)
        rows = np.arange(m)
        wt = (weight[safe_t] if weight is not None else np.ones(m, x.dtype)) * mask
        with np.errstate(invalid="ignore"):  # 0·(−inf) where a zero class weight meets a masked logit
            loss = -wt * logp[rows, safe_t]
            if label_smoothing > 0:
                smooth = -(logp * weight).sum(axis=1) if weight is not None else -logp.sum(axis=1)
                loss = (1 - label_smoothing) * loss + (label_smoothing / c) * smooth
        loss = np.where(mask, loss, 0).astype(x.dtype, copy=False)
        ctx.save_for_backward(x)
        ctx.logp = logp  # for a first-order backward; recording a graph, it is recomputed from x
        ctx.safe_t, ctx.wt, ctx.mask, ctx.weight = safe_t, wt, mask, weight
        ctx.reduction, ctx.eps = reduction, label_smoothing
        return _weighted_reduce(ctx, loss, wt, reduction)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        logp = ctx.logp if isinstance(grad, np.ndarray) else LogSoftmax.apply(x, 1)
        safe_t, wt, mask = ctx.safe_t, ctx.wt, ctx.mask
        m, c = np.shape(logp)
        eps = ctx.eps
        gn = _per_row_grad(grad, ctx.reduction, m, getattr(ctx, "denom", None))
        a = np.zeros((m, c), dtype=logp.dtype)  # ∂ℓ_n/∂p_{n,c}: depends on targets and weights only
        a[np.arange(m), safe_t] = -(1 - eps) * wt
        if eps > 0:
            wc = ctx.weight if ctx.weight is not None else np.ones(c, logp.dtype)
            a -= (eps / c) * wc[None, :] * mask[:, None]
        with np.errstate(invalid="ignore"):  # NaN rows are ignored ones (dropped below) or the caller's NaN
            gx = (a - np.exp(logp) * a.sum(axis=1, keepdims=True)) * gn[:, None]
        return np.where(mask[:, None], gx, np.zeros((), dtype=logp.dtype)), None


class CrossEntropyProbs(Primitive):
    """Cross-entropy of logits x (M, C) against class probabilities y (M, C).

    ℓ_n = −Σ_c w_c ỹ_{n,c} p_{n,c}, p = log_softmax(x), ỹ = (1−ε)y + ε/C; 'mean' divides by M.
    VJP: with a = −w·ỹ (∂ℓ/∂p):  x̄_n = ȳ_n(a_n − softmax(x_n)·Σ_c a_{n,c}),
    ȳ_target_{n,c} = −ȳ_n (1−ε) w_c p_{n,c}.
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, reduction="mean", label_smoothing=0.0):
        m, c = x.shape
        logp = _log_softmax_rows(x)
        a = CrossEntropyProbs._dloss_dlogp(y, weight, label_smoothing, c)
        ctx.save_for_backward(x, y)
        ctx.logp = logp  # for a first-order backward; recording a graph, it is recomputed from x
        ctx.weight, ctx.reduction, ctx.eps = weight, reduction, label_smoothing
        with np.errstate(invalid="ignore"):  # 0·(−inf) = nan where a target 0 meets a −inf logit, as in PyTorch
            loss = (a * logp).sum(axis=1).astype(x.dtype, copy=False)
        return _reduce(loss, reduction)

    @staticmethod
    def _dloss_dlogp(y, weight, eps, c):
        """a = −w·ỹ, ỹ = (1−ε)y + ε/C: ∂ℓ_n/∂p_{n,c} (a function of the targets)."""
        yt = y * (1 - eps) + eps / c if eps > 0 else y
        return -yt * weight if weight is not None else -yt

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        logp = ctx.logp if isinstance(grad, np.ndarray) else LogSoftmax.apply(x, 1)
        m, c = np.shape(logp)
        a = CrossEntropyProbs._dloss_dlogp(y, ctx.weight, ctx.eps, c)
        gn = np.expand_dims(np.broadcast_to(_unreduce(grad, ctx.reduction, m), (m,)), 1)
        gx = (a - np.exp(logp) * np.sum(a, axis=1, keepdims=True)) * gn if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            wl = logp * ctx.weight if ctx.weight is not None else logp
            gy = -(1 - ctx.eps) * wl * gn
        return gx, gy


class NLLLoss(Primitive):
    """Negative log-likelihood of log-probabilities x (M, C) at class indices t (M,).

    ℓ_n = −w_{t_n} x_{n,t_n} · [t_n ≠ ignore_index]; 'mean' divides by Σ_n w_{t_n}[t_n ≠ ignore]
    (nothing counted: nan).
    VJP: x̄_{n,c} = −ȳ_n w_{t_n} [c = t_n] (masked), scaled like the reduction.
    Ignored rows are selected out (ℓ_n = x̄_n = 0 even for a NaN or ±inf x_{n,·}).
    """

    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean"):
        m = x.shape[0]
        mask = target != ignore_index
        safe_t = np.where(mask, target, 0)
        wt = ((weight[safe_t] if weight is not None else np.ones(m, x.dtype)) * mask).astype(x.dtype)
        with np.errstate(invalid="ignore"):  # 0·(±inf) of a zero class weight, as in PyTorch
            loss = np.where(mask, -wt * x[np.arange(m), safe_t], 0).astype(x.dtype, copy=False)
        ctx.shape, ctx.safe_t, ctx.wt, ctx.mask, ctx.reduction = x.shape, safe_t, wt, mask, reduction
        return _weighted_reduce(ctx, loss, wt, reduction)

    @staticmethod
    def backward(ctx, grad):
        m = ctx.shape[0]
        gn = _per_row_grad(grad, ctx.reduction, m, getattr(ctx, "denom", None))
        with np.errstate(invalid="ignore"):
            g_target = np.where(ctx.mask, -ctx.wt * gn, np.zeros((), dtype=ctx.wt.dtype))
        # x̄ is zero except at (n, t_n): the VJP of picking x[n, t_n], an index-add into zeros.
        return index_put_accumulate(ctx.shape, (np.arange(m), ctx.safe_t), g_target), None


class BCELoss(Primitive):
    """ℓ = −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at ≥ −100 (so x = 0 or 1 stays finite).

    VJP: x̄ = ȳ·w·(x − y)/max(x(1 − x), 1e-12),   ȳ_target = −ȳ·w·(log x − log(1 − x)) (clamped logs).
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, reduction="mean"):
        with np.errstate(divide="ignore"):
            lx = np.maximum(np.log(x), -100)
            l1x = np.maximum(np.log1p(-x), -100)
        loss = -(y * lx + (1 - y) * l1x)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.reduction, ctx.n = weight, reduction, loss.size
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        g = _unreduce(grad, ctx.reduction, ctx.n)
        if ctx.weight is not None:
            g = g * ctx.weight
        gx = g * (x - y) / np.maximum(x * (1 - x), 1e-12) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = -g * (np.maximum(np.log(x), -100) - np.maximum(np.log1p(-x), -100))
        return gx, gy


class BCEWithLogits(Primitive):
    """Binary cross-entropy on logits, stable for any x (never exponentiates a positive number).

    ℓ = w·((1 − y)·x + l·softplus(−x)),  l = 1 + (pos_weight − 1)·y,
    ``softplus(−x) = log1p(e^{−|x|}) + max(−x, 0)``.
    VJP: x̄ = ȳ·w·((1 − y) − l·σ(−x)),   ȳ_target = ȳ·w·(−x + (pos_weight − 1)·softplus(−x)).
    """

    @staticmethod
    def forward(ctx, x, y, weight=None, pos_weight=None, reduction="mean"):
        sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
        lw = 1 + (pos_weight - 1) * y if pos_weight is not None else None
        loss = (1 - y) * x + (lw * sp if lw is not None else sp)
        if weight is not None:
            loss = loss * weight
        ctx.save_for_backward(x, y)
        ctx.weight, ctx.pw, ctx.reduction, ctx.n = weight, pos_weight, reduction, loss.size
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        pw = ctx.pw
        g = _unreduce(grad, ctx.reduction, ctx.n)
        if ctx.weight is not None:
            g = g * ctx.weight
        gx = gy = None
        if ctx.needs_input_grad[0]:
            # σ(−x) computed stably: e^{−x}/(1 + e^{−x}) for x > 0, 1/(1 + e^{x}) otherwise, each
            # branch exponentiating only its own side of 0 (smooth there, unlike e^{−|x|}, so
            # that the second derivative at x = 0 is right too).
            pos = np.greater(x, 0)
            e_pos, e_neg = np.exp(-np.where(pos, x, 0.0)), np.exp(np.where(pos, 0.0, x))
            sig_neg = np.where(pos, e_pos / (1 + e_pos), 1 / (1 + e_neg))
            lw = 1 + (pw - 1) * y if pw is not None else 1
            gx = g * ((1 - y) - lw * sig_neg)
        if ctx.needs_input_grad[1]:
            if pw is not None:
                sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)  # softplus(−x)
                gy = g * (-x + (pw - 1) * sp)
            else:
                gy = g * -x
        return gx, gy
