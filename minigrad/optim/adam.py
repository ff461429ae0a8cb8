"""Adam and AdamW: adaptive moment estimation, with coupled or decoupled weight decay."""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.optim.optimizer import Optimizer, _lerp_, _step_tensor, _zeros_state

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba), with PyTorch's update order.

    With gradient :math:`g` (negated if ``maximize``), step count :math:`t`::

        t ← t + 1
        θ ← θ (1 − lr λ)                 if decoupled_weight_decay (AdamW)
        g ← g + λ θ                      otherwise, when λ ≠ 0
        m ← lerp(m, g, 1 − β₁)            (= β₁ m + (1 − β₁) g)
        v ← β₂ v + (1 − β₂) g²
        v̂ ← max(v̂, v)                    if amsgrad (v̂ replaces v below)
        θ ← θ − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)

    ``eps`` is added *after* the bias-corrected square root, as in PyTorch.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    betas : (float, float), default (0.9, 0.999)
    eps : float, default 1e-8
    weight_decay : float, default 0
    amsgrad : bool, default False
    maximize : bool, default False
    decoupled_weight_decay : bool, default False
        Apply weight decay to the parameter directly (AdamW) instead of adding
        it to the gradient.

    Raises
    ------
    RuntimeError
        At :meth:`step`, for a sparse gradient (use :class:`SparseAdam`).
    """

    _layout_error = "Adam does not support sparse gradients, please consider SparseAdam instead"

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _update(self, p, grad, group) -> None:
        """One step of the rule above for ``p``, from its gradient array ``grad``."""
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        state = self.state[p]
        if len(state) == 0:
            state["step"] = _step_tensor()
            state["exp_avg"] = _zeros_state(p)
            state["exp_avg_sq"] = _zeros_state(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = _zeros_state(p)
        theta = p._array
        g = grad
        state["step"]._array += 1
        # The compiled kernel does the whole update below in one pass over memory
        # (about 10 NumPy passes and 5 temporaries otherwise); the NumPy code is the
        # reference and runs whenever the kernel cannot (non-contiguous arrays, no extension).
        if kernels.adam_update_(
            theta, g, state["exp_avg"]._array, state["exp_avg_sq"]._array,
            state["max_exp_avg_sq"]._array if group["amsgrad"] else None,
            lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=wd,
            decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
            step=float(state["step"]._array),
        ):
            return
        if group["maximize"]:
            g = -g
        if wd != 0:
            if group["decoupled_weight_decay"]:
                theta *= 1 - lr * wd
            else:
                g = g + wd * theta
        m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g

        t = float(state["step"]._array)
        bias_correction1 = 1 - beta1 ** t
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if group["amsgrad"]:
            vmax = state["max_exp_avg_sq"]._array
            np.maximum(vmax, v, out=vmax)
            denom = np.sqrt(vmax) / bias_correction2_sqrt
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt
        denom += eps
        theta += -step_size * (m / denom)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter).

    The same as :class:`Adam` with ``decoupled_weight_decay=True``: before the
    moment updates, ``θ ← θ (1 − lr λ)``; the gradient itself is not changed.
    The default ``weight_decay`` is ``1e-2``.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
