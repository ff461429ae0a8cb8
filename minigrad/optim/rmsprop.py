"""RMSprop: steps scaled by a running average of squared gradients."""
from __future__ import annotations

import numpy as np

from minigrad.optim.optimizer import Optimizer, _lerp_, _step_tensor, _zeros_state

__all__ = ["RMSprop"]


def _addcmul_(out: np.ndarray, a: np.ndarray, b: np.ndarray, value: float) -> None:
    """``out += value · a · b`` in place, rounded once, as ``torch.addcmul_`` computes it.

    The product is formed in float64 for float32 (and float16) state, so a squared
    gradient that overflows float32 on its own (g = 1e20: g² = 1e40) still gives the
    right float32 sum, and inf − ḡ² stays inf instead of becoming inf − inf = nan.
    """
    wide = np.float64 if out.dtype.itemsize < 8 else out.dtype
    with np.errstate(over="ignore"):  # a sum beyond float32 is inf, as in PyTorch
        out[...] = out.astype(wide) + value * a.astype(wide) * b.astype(wide)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), PyTorch's update rule.

    With gradient :math:`g` (negated if ``maximize``)::

        g ← g + λ θ                                   (weight_decay λ)
        v ← α v + (1 − α) g²
        centered:  ḡ ← lerp(ḡ, g, 1 − α);  d = √(v − ḡ²) + eps
        otherwise: d = √v + eps
        momentum μ > 0:  b ← μ b + g / d;  θ ← θ − lr · b
        otherwise:       θ ← θ − lr · g / d

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-2
    alpha : float, default 0.99
    eps : float, default 1e-8
    weight_decay : float, default 0
    momentum : float, default 0
    centered : bool, default False
    maximize : bool, default False
    """

    _layout_error = "RMSprop does not support sparse gradients"

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, p, grad, group) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, mu = group["weight_decay"], group["momentum"]
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["square_avg"] = _zeros_state(p)
            if mu > 0:
                state["momentum_buffer"] = _zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = _zeros_state(p)
        g = grad
        if group["maximize"]:
            g = -g
        state["step"]._array += 1
        if wd != 0:
            g = g + wd * p._array
        v = state["square_avg"]._array
        v *= alpha
        _addcmul_(v, g, g, 1 - alpha)
        if group["centered"]:
            gbar = state["grad_avg"]._array
            _lerp_(gbar, g, 1 - alpha)
            avg = v.copy()
            _addcmul_(avg, gbar, gbar, -1)
            avg = np.sqrt(avg)
        else:
            avg = np.sqrt(v)
        avg += eps
        if mu > 0:
            buf = state["momentum_buffer"]._array
            buf *= mu
            buf += g / avg
            p._array += -lr * buf
        else:
            p._array += -lr * (g / avg)
