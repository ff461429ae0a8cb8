"""``Linear``: a learned affine map of continuous inputs; ``Bilinear``: a learned bilinear form of two inputs."""
from __future__ import annotations

import math

import numpy as np

from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter


class Linear(Module):
    """y = x Wᵀ + b.

    Every output is a weighted sum of *all* input features, so Linear suits
    continuous inputs (measurements, hidden activations). Feeding it a one-hot
    vector of a category would multiply a (V,)-long vector of zeros and a single
    one by W: that is an :class:`~minigrad.nn.Embedding` lookup done the slow way.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    dtype : dtype, optional
        float32 unless given.

    Attributes
    ----------
    weight : Parameter, shape (out_features, in_features)
        Initialised U(−1/√in, 1/√in) (``kaiming_uniform_`` with a = √5, as PyTorch).
    bias : Parameter, shape (out_features,), or None
        U(−1/√in, 1/√in) (0 when in_features = 0).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> fc = nn.Linear(3, 2)
    >>> fc(minigrad.ones(4, 3)).shape
    minigrad.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x₁ᵀ A x₂ + b: one bilinear form per output feature.

    Parameters
    ----------
    in1_features, in2_features, out_features : int
    bias : bool, default True
    dtype : dtype, optional
        float32 unless given.

    Attributes
    ----------
    weight : Parameter, shape (out_features, in1_features, in2_features)
        Initialised U(−1/√in1, 1/√in1), as PyTorch.
    bias : Parameter, shape (out_features,), or None
        U(−1/√in1, 1/√in1).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> m = nn.Bilinear(3, 5, 2)
    >>> m(minigrad.ones(4, 3), minigrad.ones(4, 5)).shape
    minigrad.Size([4, 2])
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        dt = np.dtype(dtype or np.float32)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype=dt))
        if bias:
            self.bias = Parameter(np.empty((out_features,), dtype=dt))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
