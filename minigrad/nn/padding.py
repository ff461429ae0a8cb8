"""Padding layers: stateless modules around :func:`minigrad.nn.functional.pad`.

``padding`` is an int (the same on every side) or a tuple ``(left, right)`` for the last
dimension, then ``(top, bottom)`` for the one before, and so on, as in ``F.pad``.
"""
from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.module import Module

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d",
]


def _sides(padding, dims: int) -> tuple:
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    return tuple(padding)


class _ConstantPadNd(Module):
    dims = 1

    def __init__(self, padding, value: float) -> None:
        super().__init__()
        self.padding = _sides(padding, self.dims)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``."""

    dims = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``."""

    dims = 3


class _ZeroPad:
    """Mixed into ZeroPadNd (a ConstantPadNd, as in PyTorch): value 0.0, printed as the padding alone."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dimension with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dimensions with zeros."""


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three dimensions with zeros."""


class _ModePadNd(Module):
    dims = 1
    mode = "reflect"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _sides(padding, self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    """Pad the last dimension with its mirror image, the edge not repeated: (1 2 3) → (3 2 | 1 2 3 | 2 1)."""

    dims, mode = 1, "reflect"


class ReflectionPad2d(_ModePadNd):
    """Pad the last two dimensions with their mirror images, the edges not repeated."""

    dims, mode = 2, "reflect"


class ReplicationPad1d(_ModePadNd):
    """Pad the last dimension by repeating its edge values: (1 2 3) → (1 1 | 1 2 3 | 3 3)."""

    dims, mode = 1, "replicate"


class ReplicationPad2d(_ModePadNd):
    """Pad the last two dimensions by repeating their edge values."""

    dims, mode = 2, "replicate"


class CircularPad1d(_ModePadNd):
    """Pad the last dimension by wrapping around: (1 2 3) → (2 3 | 1 2 3 | 1 2)."""

    dims, mode = 1, "circular"


class CircularPad2d(_ModePadNd):
    """Pad the last two dimensions by wrapping around."""

    dims, mode = 2, "circular"
