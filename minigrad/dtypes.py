"""dtypes under PyTorch's names, printed as PyTorch prints them (``minigrad.float32``).

A minigrad dtype wraps one NumPy dtype: the tensor's array holds that NumPy
dtype, and ``Tensor.dtype`` looks the wrapper up (one dict lookup). NumPy takes
a minigrad dtype wherever it takes a dtype (``np.zeros(3, dtype=minigrad.int64)``,
``arr.astype(minigrad.float64)``): ``np.dtype(obj)`` reads an object's ``.dtype``
attribute, which here is the NumPy dtype.

Comparison: a minigrad dtype equals itself and anything NumPy reads as the same
dtype (``numpy.dtype('float32')``, ``numpy.float32``, ``'float32'``), and hashes
as that NumPy dtype, so code written against NumPy dtypes keeps working. PyTorch's
dtypes do not compare equal to NumPy's; minigrad keeps the NumPy equality on purpose.
"""
from __future__ import annotations

import numpy as np

__all__ = ["dtype", "finfo", "iinfo", "as_numpy_dtype"]


class dtype:
    """The element type of a tensor: ``minigrad.float32``, ``minigrad.int64``, ...

    ``dtype`` is the NumPy dtype of the arrays of tensors of this dtype;
    ``is_floating_point``, ``is_complex``, ``is_signed`` and ``itemsize`` are
    PyTorch's; ``kind``, ``name``, ``char``, ``type`` and ``str`` are read from
    the NumPy dtype, so that a minigrad dtype stands where code expects a NumPy one.

    Examples
    --------
    >>> import minigrad, numpy as np
    >>> minigrad.float32
    minigrad.float32
    >>> minigrad.zeros(2).dtype == minigrad.float32 == np.float32
    True
    >>> minigrad.float64.is_floating_point, minigrad.int64.itemsize
    (True, 8)
    """

    __slots__ = ("dtype", "_name", "__weakref__")

    def __init__(self, np_dtype, name: str) -> None:
        self.dtype = np.dtype(np_dtype)
        self._name = name

    def __repr__(self) -> str:
        return f"minigrad.{self._name}"

    __str__ = __repr__

    def __eq__(self, other):
        if other is self:
            return True
        if other is None:
            return False  # NumPy reads None as float64
        if type(other) is dtype:
            return self.dtype == other.dtype
        return self.dtype == other  # NumPy's answer: False for what it cannot read as a dtype

    def __ne__(self, other):
        return other is not self and not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.dtype)

    def __reduce__(self):
        return (_by_name, (self._name,))

    # What code written for NumPy dtypes reads, read through. (Not a __getattr__: NumPy
    # probes a dtype-like object for attributes, and every miss would cost an exception.)
    kind = property(lambda self: self.dtype.kind, doc="The NumPy kind character: 'f', 'i', 'u' or 'b'.")
    name = property(lambda self: self.dtype.name, doc="The NumPy name: 'float32', 'int64', ...")
    char = property(lambda self: self.dtype.char, doc="The NumPy type character.")
    type = property(lambda self: self.dtype.type, doc="The NumPy scalar type (``numpy.float32``, ...).")
    str = property(lambda self: self.dtype.str, doc="The NumPy array-protocol string ('<f4', ...).")

    @property
    def is_floating_point(self) -> bool:
        """True for float16, float32 and float64."""
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> bool:
        """False: minigrad has no complex dtypes."""
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> bool:
        """True for the floating and signed integer dtypes."""
        return self.dtype.kind in "fic"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    def to_real(self) -> "dtype":
        """This dtype (every minigrad dtype is real)."""
        return self

    def to_complex(self):
        """An error: minigrad has no complex dtypes."""
        raise TypeError("minigrad has no complex dtypes")


# PyTorch's names (the first is the one printed), one dtype object per NumPy dtype.
_NAMES = {
    "float32": ("float32", "float"),
    "float64": ("float64", "double"),
    "float16": ("float16", "half"),
    "int64": ("int64", "long"),
    "int32": ("int32", "int"),
    "int16": ("int16", "short"),
    "int8": ("int8",),
    "uint8": ("uint8",),
    "uint16": ("uint16",),
    "uint32": ("uint32",),
    "uint64": ("uint64",),
    "bool": ("bool",),
}
_BY_NUMPY: dict = {}
_BY_NAME: dict = {}
for _np_name, _names in _NAMES.items():
    _d = dtype(_np_name, _names[0])
    _BY_NUMPY[_d.dtype] = _d
    for _n in _names:
        _BY_NAME[_n] = _d
del _np_name, _names, _d, _n


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def of_numpy(np_dtype: np.dtype) -> dtype:
    """The minigrad dtype of arrays of ``np_dtype`` (made once for a dtype outside the table)."""
    d = _BY_NUMPY.get(np_dtype)
    if d is None:
        d = _BY_NUMPY[np_dtype] = dtype(np_dtype, np.dtype(np_dtype).name)
    return d


def as_numpy_dtype(d) -> np.dtype:
    """The NumPy dtype for anything a ``dtype=`` argument accepts (minigrad dtype, NumPy dtype, type or name)."""
    return d.dtype if isinstance(d, dtype) else np.dtype(d)


class finfo:
    """Machine limits of a floating dtype, as ``torch.finfo`` (default: float32)."""

    def __init__(self, type=None) -> None:
        np_dtype = np.dtype(np.float32) if type is None else as_numpy_dtype(type)
        if np_dtype.kind != "f":
            raise TypeError("minigrad.finfo() requires a floating point input type. "
                            "Use minigrad.iinfo to handle 'minigrad.finfo'")
        info = np.finfo(np_dtype)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = np_dtype.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype, as ``torch.iinfo``."""

    def __init__(self, type) -> None:
        np_dtype = as_numpy_dtype(type)
        if np_dtype.kind == "b":
            raise TypeError("minigrad.bool is not supported by minigrad.iinfo")
        if np_dtype.kind not in "iu":
            raise TypeError("minigrad.iinfo() requires an integer input type. "
                            "Use minigrad.finfo to handle 'minigrad.iinfo'")
        info = np.iinfo(np_dtype)
        self.bits, self.max, self.min = info.bits, int(info.max), int(info.min)
        self.dtype = np_dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
