"""Stochastic gradient descent, optionally with (Nesterov) momentum."""
from __future__ import annotations

import numpy as np

from minigrad import kernels
from minigrad.optim import _sparse
from minigrad.optim.optimizer import Optimizer
from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (PyTorch's update rule, operation for operation).

    For each parameter :math:`\theta` with gradient :math:`g` (negated first if
    ``maximize``)::

        g ← g + λ θ                                   (weight_decay λ)
        b ← g                        at the first step (momentum μ ≠ 0)
        b ← μ b + (1 − τ) g          afterwards        (dampening τ)
        g ← g + μ b   if nesterov  else  g ← b
        θ ← θ − lr · g

    Note the first momentum buffer is the raw gradient, not ``(1 − τ) g``.

    Parameters
    ----------
    params : iterable of Tensor or dict
    lr : float, default 1e-3
    momentum : float, default 0
    dampening : float, default 0
    weight_decay : float, default 0
    nesterov : bool, default False
        Needs ``momentum > 0`` and ``dampening == 0``.
    maximize : bool, default False
        Ascend the objective instead of descending.

    Notes
    -----
    Row-sparse gradients (``Embedding(sparse=True)``) update only the rows they
    touch. With momentum the buffer is row-sparse too, holding the union of the
    rows seen so far (PyTorch's buffer is a sparse tensor as well); rows outside
    it keep their buffer value zero, which is exactly what the dense rule gives
    for a row whose gradient has always been zero. ``weight_decay`` would touch
    every row and is rejected with sparse gradients.

    Examples
    --------
    >>> import numpy as np, minigrad
    >>> w = minigrad.nn.Parameter(np.array([1.0, -2.0]))
    >>> opt = SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w.data
    tensor([ 0.8000, -1.6000], dtype=minigrad.float64)
    """

    _sparse_grads = "both"

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update(self, p: Tensor, grad, group: dict) -> None:
        if isinstance(grad, SparseTensor):
            self._sparse_update(p, grad, group)
        elif not self._fused_update(p, grad, group):
            self._dense_update(p, grad, group)

    def _dense_update(self, p: Tensor, grad: np.ndarray, group: dict) -> None:
        """θ ← θ − lr·g with weight decay and (Nesterov) momentum, for a dense gradient array."""
        lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        g = grad
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p._array
        if mu != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = Tensor(np.array(g, copy=True))
                state["momentum_buffer"] = buf
            else:
                if isinstance(buf, SparseTensor):
                    # A dense gradient after sparse ones: continue with a dense buffer.
                    buf = Tensor(buf.dense_array())
                    state["momentum_buffer"] = buf
                b = buf._array
                b *= mu
                b += (1 - tau) * g
            g = g + mu * buf._array if group["nesterov"] else buf._array
        p._array += -lr * g

    def _fused_update(self, p: Tensor, g, group: dict) -> bool:
        """:meth:`_dense_update` in one compiled pass (its NumPy code, the reference, makes
        3-5 passes and as many temporaries); False when the kernel cannot take these arrays."""
        mu = group["momentum"]
        buf, first = None, False
        if mu != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                first = True
                buf = Tensor._make(np.empty_like(p._array), False, None)  # filled by the kernel
            elif isinstance(buf, SparseTensor):
                return False
        done = kernels.sgd_update_(
            p._array, g, None if buf is None else buf._array, first=first, lr=group["lr"], momentum=mu,
            dampening=group["dampening"], weight_decay=group["weight_decay"],
            nesterov=group["nesterov"], maximize=group["maximize"],
        )
        if done and first:
            self.state[p]["momentum_buffer"] = buf
        return done

    def _sparse_update(self, p: Tensor, grad: SparseTensor, group: dict) -> None:
        lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        g = grad
        if group["maximize"]:
            g = _sparse.neg(g)
        if wd != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        if mu != 0:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = g.coalesce()
                buf = SparseTensor(buf._idx.copy(), buf._val.copy(), buf.shape, is_coalesced=True)
                state["momentum_buffer"] = buf
            elif isinstance(buf, SparseTensor):
                buf = _sparse.combine(buf, mu, g, 1 - tau)
                state["momentum_buffer"] = buf
            else:
                # A dense buffer (from earlier dense steps) stays dense.
                b = buf._array
                b *= mu
                _sparse.add_rows_(b, g, 1 - tau)
                direction = g.dense_array() + mu * b if group["nesterov"] else b
                p._array += -lr * direction
                return
            g = _sparse.combine(g, 1.0, buf, mu) if group["nesterov"] else buf
        _sparse.add_rows_(p._array, g, -lr)
