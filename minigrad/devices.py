"""Devices: :class:`device` names where a tensor lives, and for minigrad that is always the CPU.

PyTorch code says where tensors go (``device='cuda'``, ``.to(device)``,
``torch.device('cuda' if torch.cuda.is_available() else 'cpu')``). minigrad
parses the same device strings and objects, so such code runs unchanged on the
CPU; asking for any other device is an error that says so.
"""
from __future__ import annotations

import builtins

import numpy as np

from minigrad import dtypes as _dtypes

__all__ = ["device"]

# The device types PyTorch's parser knows (so 'cuda:1' parses and 'cdua' does not).
_KNOWN_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)


class device:
    """Where a tensor's memory is: ``device('cpu')``, ``device('cpu', 0)``, ``device('cpu:0')``.

    Any device type PyTorch knows can be named (so ``device('cuda')`` can be
    built and compared), but only the CPU can hold tensors: using another
    device in a factory, ``Tensor.to`` or ``Module.to`` raises a
    ``RuntimeError``.

    Parameters
    ----------
    type : str or device
        ``'cpu'``, optionally with an index (``'cpu:0'``), or a device.
    index : int, optional

    Examples
    --------
    >>> import minigrad
    >>> minigrad.device('cpu')
    device(type='cpu')
    >>> minigrad.zeros(2).device == minigrad.device('cpu')
    True
    >>> str(minigrad.device('cpu', 0))
    'cpu:0'
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index: int | None = None) -> None:
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError("device(): a device object and an index cannot both be given")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string or a device, but got {builtins.type(type).__name__}")
        name, sep, idx = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start of device string: {type}"
            )
        if sep:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self._type, self._index = name, index

    @property
    def type(self) -> str:
        """The device type, e.g. ``'cpu'``."""
        return self._type

    @property
    def index(self):
        """The device index, or None."""
        return self._index

    def __eq__(self, other) -> bool:
        # As in PyTorch, a device equals only a device (device('cpu') == 'cpu' is False).
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"


_CPU = device("cpu")


def _check_device(dev) -> device:
    """``dev`` as a device (None means the CPU); any device but the CPU is an error."""
    if dev is None:
        return _CPU
    d = dev if isinstance(dev, device) else device(dev)
    if d._type != "cpu":
        raise _not_available(d)
    return d


def _not_available(dev) -> RuntimeError:
    """The error for asking for ``dev`` (a device that is not the CPU, e.g. from ``.cuda()``)."""
    return RuntimeError(
        f"minigrad runs on the CPU only: device '{dev}' is not available (minigrad.cuda.is_available() "
        "is False). Use device='cpu', or leave the device out."
    )


def _cuda_device(index=None) -> device:
    """The device ``.cuda(index)`` asks for."""
    return device("cuda") if index is None else device(index) if isinstance(index, (str, device)) else device("cuda", index)


def _parse_to(args, kwargs):
    """The ``(device, dtype, copy)`` asked for by ``to(...)`` in any of PyTorch's forms.

    ``to(dtype)``, ``to(device, dtype=None)``, ``to(other_tensor)``, and the
    keywords ``device``, ``dtype``, ``non_blocking``, ``copy``, ``memory_format``.
    """
    kwargs = dict(kwargs)
    dev, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    args = list(args)
    first = args[0] if args else None
    if isinstance(first, (str, device)):
        dev = args.pop(0)
        if args and not isinstance(args[0], bool):
            dtype = args.pop(0)
    elif isinstance(first, (np.dtype, type, _dtypes.dtype)):
        dtype = args.pop(0)
    elif hasattr(first, "dtype") and hasattr(first, "device"):
        other = args.pop(0)  # to(other): its device and dtype
        dev, dtype = other.device, other.dtype
    # What remains positionally is (non_blocking, copy), as in PyTorch.
    if len(args) > 2:
        raise TypeError("to() received too many positional arguments")
    if len(args) == 2:
        copy = bool(args[1])
    return _check_device(dev) if dev is not None else None, None if dtype is None else np.dtype(dtype), copy
