"""SparseAdam: Adam that moves only the rows a row-sparse gradient touches."""
from __future__ import annotations

import math

import numpy as np

from minigrad import kernels
from minigrad.optim import _sparse
from minigrad.optim.optimizer import Optimizer, _zeros_state
from minigrad.sparse import SparseTensor

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    r"""Lazy Adam for row-sparse gradients (``Embedding(sparse=True)``).

    The gradient is coalesced (duplicate rows summed); then, for the touched
    rows :math:`R` only, with the parameter's step count :math:`t`::

        m_R ← m_R + (1 − β₁)(g_R − m_R)
        v_R ← v_R + (1 − β₂)(g_R² − v_R)
        θ_R ← θ_R − lr · √(1 − β₂ᵗ) / (1 − β₁ᵗ) · m_R / (√v_R + eps)

    Rows not in the gradient keep their parameter *and* their moments: unlike
    :class:`Adam`, an untouched row's momentum does not keep moving it. The step
    count still advances for a gradient with no rows (whose update is skipped),
    as in PyTorch.

    Parameters
    ----------
    params : iterable of Tensor or dict
        Dense parameters whose gradients will be sparse.
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    maximize : bool, default False
    """

    _sparse_grads = "sparse"
    _layout_error = "SparseAdam does not support dense gradients, please consider Adam instead"

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 maximize: bool = False) -> None:
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params = [
            [i, j] for i, group in enumerate(self.param_groups)
            for j, p in enumerate(group["params"]) if getattr(p, "is_sparse", False)
        ]
        if sparse_params:
            raise ValueError(
                f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors"
            )

    def _update(self, p, grad, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = 0
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        g = _sparse.neg(grad) if group["maximize"] else grad
        g = g.coalesce()  # non-linear update: duplicate rows must be summed first
        if g._val.size == 0:
            return False  # nothing moves, so p keeps its version (PyTorch skips the update too)
        idx, vals = g._idx, g._val
        m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
        t = state["step"]
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = group["lr"] * math.sqrt(bias_correction2) / bias_correction1
        # The compiled kernel updates the rows in place in one pass; the NumPy code below
        # (the reference) gathers m, v rows, forms four temporaries and index-adds three times.
        if kernels.sparse_adam_rows_(p._array, m, v, idx, vals, beta1=beta1, beta2=beta2,
                                     step_size=step_size, eps=group["eps"]):
            return None

        old_m = _sparse.rows(m, idx)
        m_update = (vals - old_m) * (1 - beta1)
        _sparse.add_rows_(m, SparseTensor(idx, m_update, g.shape))
        old_v = _sparse.rows(v, idx)
        v_update = (vals ** 2 - old_v) * (1 - beta2)
        _sparse.add_rows_(v, SparseTensor(idx, v_update, g.shape))

        # The new moment rows, recomputed from the updates rather than gathered again.
        numer = m_update + old_m
        denom = v_update + old_v
        np.sqrt(denom, out=denom)
        denom += group["eps"]

        numer /= denom
        _sparse.add_rows_(p._array, SparseTensor(idx, -step_size * numer, g.shape))
