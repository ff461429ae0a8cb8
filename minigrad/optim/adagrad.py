"""Adagrad: per-coordinate step sizes from the running sum of squared gradients."""
from __future__ import annotations

import numpy as np

from minigrad.optim import _sparse
from minigrad.optim.optimizer import Optimizer, _step_tensor, _zeros_state

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.), PyTorch's update rule.

    With gradient :math:`g` (negated if ``maximize``) at step :math:`t`::

        g ← g + λ θ                                 (weight_decay λ)
        clr = lr / (1 + (t − 1) · lr_decay)
        s ← s + g²                                  (s starts at initial_accumulator_value)
        θ ← θ − clr · g / (√s + eps)

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-2
    lr_decay : float, default 0
    weight_decay : float, default 0
    initial_accumulator_value : float, default 0
    eps : float, default 1e-10
    maximize : bool, default False

    Notes
    -----
    The state (``step`` and ``sum``) is created for every parameter when the
    optimizer is built, as in PyTorch. A row-sparse gradient is coalesced first
    (the update is non-linear in ``g``, so duplicate rows must be summed) and
    updates only its rows of ``s`` and ``θ``; ``weight_decay`` is rejected then.
    """

    _sparse_grads = "both"

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _step_tensor()
                state["sum"] = _zeros_state(p, initial_accumulator_value)

    def _update(self, p, grad, group) -> None:
        lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
        state = self.state[p]
        if len(state) == 0:
            # Groups added later start from the optimizer-wide default (as PyTorch).
            state["step"] = _step_tensor()
            state["sum"] = _zeros_state(p, self.defaults["initial_accumulator_value"])
        state["step"]._array += 1
        t = float(state["step"]._array)
        sparse = _sparse.is_sparse(grad)
        if sparse:
            g = _sparse.neg(grad) if group["maximize"] else grad
        else:
            g = -grad if group["maximize"] else grad
        if wd != 0:
            if sparse:
                raise RuntimeError("weight_decay option is not compatible with sparse gradients")
            g = g + wd * p._array
        clr = lr / (1 + (t - 1) * lr_decay)
        s = state["sum"]._array
        if sparse:
            g = g.coalesce()  # the update is non-linear in g: sum duplicate rows first
            vals = g._val
            _sparse.add_rows_(s, type(g)(g._idx, vals * vals, g.shape))
            std = _sparse.rows(s, g._idx)
            np.sqrt(std, out=std)
            std += eps
            _sparse.add_rows_(p._array, type(g)(g._idx, vals / std, g.shape), -clr)
        else:
            s += g * g
            std = np.sqrt(s)
            std += eps
            p._array += -clr * (g / std)
