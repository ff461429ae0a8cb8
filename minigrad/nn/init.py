"""Weight initialisation, with PyTorch's names and formulas.

Every function fills its tensor in place under ``no_grad`` (so it works on
parameters), draws from ``generator`` if given, else from the default generator
(:func:`minigrad.manual_seed` makes it reproducible), and returns the tensor.

Fan-in / fan-out of a weight of shape ``(out, in, *kernel)`` are
``in·∏kernel`` and ``out·∏kernel``; a ``(out, in)`` Linear weight has
fan_in = in. The variance-preserving bounds:

* Xavier/Glorot: std = gain·√(2/(fan_in + fan_out)); uniform bound = √3·std.
* Kaiming/He: std = gain/√fan, with gain = √(2/(1 + a²)) for leaky_relu;
  uniform bound = √3·std. ``kaiming_uniform_(w, a=√5)`` gives U(±1/√fan_in),
  what ``Linear`` uses.
"""
from __future__ import annotations

import math

import numpy as np

from minigrad.autograd import no_grad
from minigrad.random import _numpy_generator

__all__ = [
    "calculate_gain", "uniform_", "normal_", "zeros_", "ones_", "constant_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    linear/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2/(1 + slope²))
    (slope ``param``, default 0.01); selu: 3/4.
    """
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight of shape (out, in, *kernel); needs ≥ 2 dims."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    with no_grad():
        tensor._array[...] = values
        tensor._bump_version()
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, generator=None):
    """Fill with draws from U(a, b)."""
    gen = _numpy_generator(generator)
    return _fill(tensor, gen.uniform(a, b, size=tensor.shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, generator=None):
    """Fill with draws from N(mean, std²)."""
    gen = _numpy_generator(generator)
    return _fill(tensor, gen.normal(mean, std, size=tensor.shape))


def constant_(tensor, val: float):
    """Fill with ``val``."""
    return _fill(tensor, val)


def zeros_(tensor):
    """Fill ``tensor`` with 0, in place and without recording gradients; returns it."""
    return _fill(tensor, 0)


def ones_(tensor):
    """Fill ``tensor`` with 1, in place and without recording gradients; returns it."""
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain: float = 1.0, generator=None):
    """U(−b, b), b = gain·√(6/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain: float = 1.0, generator=None):
    """N(0, std²), std = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """U(−b, b), b = √3·gain/√fan (gain from ``calculate_gain(nonlinearity, a)``)."""
    if 0 in tensor.shape:
        return tensor  # nothing to fill, and the fan would be 0 (PyTorch warns and returns too)
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", generator=None):
    """N(0, std²), std = gain/√fan."""
    if 0 in tensor.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)
