"""Batch normalisation: normalise each channel by statistics of the batch.

While training, every channel c is shifted and scaled by the mean and the
(biased) variance of its values over the batch (and, for images, over every
position), then by a learned ``weight`` and ``bias``; running averages of the
statistics are kept for evaluation, where they replace the batch's. Written
with differentiable tensor ops (mean, subtraction, power, division), so its
gradient at every order is theirs.
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import no_grad
from minigrad.autograd.function import rename_node
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

__all__ = ["batch_norm", "BatchNorm1d", "BatchNorm2d"]


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5):
    """Normalise each channel (dim 1) of ``input``: ``y = (x − μ)/√(σ² + eps)·weight + bias``.

    With ``training``, μ and σ² (biased) are the batch's statistics over every
    dim but 1, and ``running_mean``/``running_var`` (if given) move towards
    them in place: ``r ← (1 − momentum)·r + momentum·s``, with the *unbiased*
    variance, as PyTorch. Otherwise the running statistics are used (constants:
    no gradient flows to them).

    Parameters
    ----------
    input : Tensor, shape (N, C, ...)
    running_mean, running_var : Tensor, shape (C,), or None
        Required when ``training`` is False.
    weight, bias : Tensor, shape (C,), optional
    training : bool, default False
    momentum : float, default 0.1
    eps : float, default 1e-5

    Returns
    -------
    Tensor, the shape of ``input``

    Raises
    ------
    ValueError
        Training with a single value per channel (the variance is undefined).
    RuntimeError
        Statistics or affine parameters whose size is not C.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.ndim}D input)")
    if input.dtype.kind != "f":
        # Integer statistics would be truncated; PyTorch refuses integer batch norm too.
        raise NotImplementedError(f"batch_norm(): minigrad normalises floating-point tensors only, got {input.dtype}")
    c = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias")):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {list(input.shape)}"
            )
        mean = input.mean(dim=dims, keepdim=True)
        centered = input - mean
        var = (centered * centered).mean(dim=dims, keepdim=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().reshape(c) * momentum)
        if running_var is not None:
            with no_grad():
                running_var.mul_(1 - momentum).add_(var.detach().reshape(c) * (momentum * count / (count - 1)))
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var must be given when not training")
        mean = running_mean.detach().reshape(shape)
        centered = input - mean
        var = running_var.detach().reshape(shape)
    y = centered / (var + eps) ** 0.5
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    # PyTorch's batch norm is one node; minigrad's is the arithmetic above.
    return rename_node(y, "NativeBatchNormBackward0")


class _BatchNorm(Module):
    """Parameters, buffers and the train/eval logic shared by BatchNorm1d and BatchNorm2d."""

    _dims = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum=0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = np.dtype(dtype or np.float32)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dt))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self._dims:
            got = input.ndim
            allowed = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"expected {allowed} input (got {got}D input)")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics while training, or when there are no running ones to use.
        use_batch = self.training or self.running_mean is None
        update = self.training and self.track_running_stats
        return batch_norm(input, self.running_mean if update or not use_batch else None,
                          self.running_var if update or not use_batch else None,
                          self.weight, self.bias, use_batch, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs, per channel C.

    ``y = (x − μ)/√(σ² + eps)·γ + β``: batch statistics while training (and
    running averages updated with ``momentum``; None for a cumulative average),
    the running averages in ``eval()`` mode (unless ``track_running_stats=False``).
    γ starts at 1, β at 0.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> bn = nn.BatchNorm1d(2)
    >>> y = bn(minigrad.tensor([[1.0, 10.0], [3.0, 30.0]]))
    >>> bn.running_mean
    tensor([0.2000, 2.0000])
    """

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` images, per channel C, over the batch and every position.

    See :class:`BatchNorm1d` for the rule.
    """

    _dims = (4,)
