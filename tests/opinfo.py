"""The op table's entry types (one ``OpInfo`` per differentiable op).

Each entry names the minigrad callable, the PyTorch reference, a Hypothesis
strategy of sample inputs (float64 NumPy arrays plus plain values), the error
inputs, and which ``Primitive`` classes it exercises. The generic tests in
``test_op_table.py`` run every entry through finite differences, PyTorch parity
(forward and every input gradient), a float32 forward check and its error
inputs. Tables live in ``op_table_*.py`` files, each exporting ``OPS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Sample:
    """One call: ``op(*args, **kwargs)``.

    NumPy arrays in ``args`` become tensors (``minigrad.Tensor`` or
    ``torch.Tensor``); float arrays whose position is in ``grad_args`` require
    grad (default: every floating-point array). Other values pass unchanged.
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad_args: tuple | None = None


@dataclass(frozen=True)
class ErrorSample:
    """A call that must raise ``error`` with a message matching ``match``."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    error: type = Exception
    match: str = ""


@dataclass(frozen=True)
class OpInfo:
    name: str
    op: Callable[..., Any]  # minigrad callable returning one Tensor
    ref: Callable[..., Any]  # the torch callable returning one torch.Tensor
    samples: Callable[[], Any]  # () -> hypothesis strategy of Sample (float64 arrays)
    functions: tuple = ()  # Primitive subclasses this entry covers
    error_samples: Callable[[], list] = lambda: []
    gradcheck: bool = True  # False only for ops with no float input gradient
    # Second order is checked for every entry (gradgradcheck and PyTorch parity) unless
    # this names the reason the op has no second derivative to check.
    first_order_only: str = ""
    # The reason PyTorch itself has no second derivative to compare with, if so (the
    # finite-difference check still runs).
    no_torch_second_order: str = ""
    # Tolerance of the float64 gradients against PyTorch's; looser only where PyTorch's own
    # float64 gradient is rounded coarser (the entry says why).
    grad_rtol: float = 1e-9
    float32_rtol: float = 1e-4
    float32_atol: float = 1e-5
