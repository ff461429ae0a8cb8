"""Random number generation: :class:`Generator` and the default generator behind ``rand``, ``randn``, init, dropout.

A :class:`Generator` owns one NumPy ``Generator`` (the PCG64 bit generator),
created on first use: importing ``numpy.random`` costs ~10 ms, a seventh of
``import minigrad``. Every function that draws takes ``generator=``; without
it, it draws from :data:`default_generator`, which :func:`manual_seed` reseeds.

The streams are NumPy's, so the same seed gives different numbers than in
PyTorch, but the same seed always gives the same numbers here.
"""
from __future__ import annotations

import os

import numpy as np

from minigrad.devices import _check_device

__all__ = [
    "Generator", "default_generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
]

# PyTorch seeds a freshly constructed Generator with this value; so do we.
_DEFAULT_SEED = 67280421310721
_STATE_BYTES = 45  # seed (8) + PCG64 state (16) + increment (16) + has_uint32 (1) + uinteger (4)


class Generator:
    """A random number generator whose state can be seeded, saved and restored.

    Pass it as ``generator=`` to any function that draws (``randn``,
    ``randperm``, ``multinomial``, ``Tensor.normal_``, the ``nn.init``
    functions, ``DataLoader``, ``random_split`` ...) to draw from it instead of
    the default generator. A new generator starts from a fixed seed
    (67280421310721, as in PyTorch).

    Parameters
    ----------
    device : str or device, default 'cpu'
        Only the CPU exists.

    Examples
    --------
    >>> import minigrad
    >>> g = minigrad.Generator().manual_seed(42)
    >>> a = minigrad.randn(3, generator=g)
    >>> b = minigrad.randn(3, generator=g.manual_seed(42))
    >>> a.tolist() == b.tolist()
    True
    """

    def __init__(self, device="cpu") -> None:
        self.device = _check_device(device)
        self._seed = _DEFAULT_SEED
        self._np = None  # the NumPy Generator, made on first draw

    def _numpy(self) -> np.random.Generator:
        if self._np is None:
            self._np = np.random.default_rng(self._seed)
        return self._np

    def manual_seed(self, seed) -> "Generator":
        """Reset the state from ``seed`` (an int in [-2⁶³, 2⁶⁴); negative values wrap as in PyTorch). Returns self."""
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        if not -(2**63) <= seed < 2**64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % 2**64
        self._np = None
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; return the seed chosen."""
        self.manual_seed(int.from_bytes(os.urandom(8), "little"))
        return self._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The whole state as a uint8 tensor (restore it with :meth:`set_state`)."""
        from minigrad.tensor import Tensor

        s = self._numpy().bit_generator.state
        raw = (
            self._seed.to_bytes(8, "little")
            + s["state"]["state"].to_bytes(16, "little")
            + s["state"]["inc"].to_bytes(16, "little")
            + int(s["has_uint32"]).to_bytes(1, "little")
            + int(s["uinteger"]).to_bytes(4, "little")
        )
        return Tensor._make(np.frombuffer(raw, dtype=np.uint8).copy(), False, None)

    def set_state(self, new_state) -> "Generator":
        """Restore a state returned by :meth:`get_state` (a uint8 tensor). Returns self."""
        from minigrad.tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a uint8 tensor, but got {type(new_state).__name__}")
        if new_state.dtype != np.uint8:
            raise TypeError(f"RNG state must be a uint8 tensor (got {new_state.dtype})")
        if new_state.numel() != _STATE_BYTES:
            raise RuntimeError(
                f"Expected an RNG state of size {_STATE_BYTES} but found the input RNG state size to be "
                f"{new_state.numel()}"
            )
        raw = new_state._array.tobytes()
        gen = self._numpy()
        gen.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[8:24], "little"), "inc": int.from_bytes(raw[24:40], "little")},
            "has_uint32": raw[40],
            "uinteger": int.from_bytes(raw[41:45], "little"),
        }
        self._seed = int.from_bytes(raw[:8], "little")
        return self

    def __repr__(self) -> str:
        return f"<minigrad.Generator seed={self._seed}>"


# The default generator starts from the operating system's entropy, as PyTorch's does.
default_generator = Generator()
default_generator.seed()


def manual_seed(seed) -> Generator:
    """Seed the default generator (used by ``rand``, ``randn``, init, dropout, shuffling); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's entropy; return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the default generator's state from :func:`get_rng_state`'s tensor."""
    default_generator.set_state(new_state)


def _numpy_generator(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the default one's."""
    if generator is None:
        return default_generator._numpy()
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a minigrad.Generator, not {type(generator).__name__}")
    return generator._numpy()
