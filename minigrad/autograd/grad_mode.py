"""Grad mode: whether operations are recorded for backward.

``no_grad``, ``enable_grad`` and ``set_grad_enabled`` work as context managers
and as decorators, and nest: each restores exactly the mode it found, so an
inner block never leaks its setting into the outer one.
"""
from __future__ import annotations

import functools
import threading

# Per thread, as in PyTorch: a no_grad block in one thread must not switch off
# recording in another.
_state = threading.local()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward."""
    return getattr(_state, "enabled", True)


def _set_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


class _GradModeContext:
    """Base for the grad-mode switches: a context manager that is also a decorator."""

    _mode: bool

    def __enter__(self):
        # A stack, not a single saved value, so the same instance can be
        # entered re-entrantly (e.g. a decorated recursive function).
        self._prev = getattr(self, "_prev", [])
        self._prev.append(is_grad_enabled())
        _set_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev.pop())
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._init_args()):
                return fn(*args, **kwargs)

        return wrapper

    def _init_args(self):
        return ()


class no_grad(_GradModeContext):
    """Disable recording of operations.

    Examples
    --------
    >>> import minigrad
    >>> x = minigrad.tensor([1.0], requires_grad=True)
    >>> with minigrad.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    _mode = False


class enable_grad(_GradModeContext):
    """Enable recording of operations, e.g. inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode to ``mode``; takes effect immediately and as a context manager.

    As in PyTorch, calling ``set_grad_enabled(False)`` as a plain function
    switches the mode at once; used in a ``with`` statement, leaving the block
    restores the previous mode.
    """

    def __init__(self, mode: bool):
        self._mode = bool(mode)
        self._prev = [is_grad_enabled()]
        _set_enabled(self._mode)

    def __enter__(self):
        # __init__ already switched the mode and remembered the previous one;
        # leaving restores it (the inherited __exit__).
        return self

    def __call__(self, fn):
        # __init__ switched the mode as a side effect; undo that for decorator use.
        _set_enabled(self._prev[0])
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
