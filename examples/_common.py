"""Small helpers shared by the example scripts (not part of the minigrad package).

Every example calls :func:`setup` for its seeds, :func:`progress` for its
training loop and :func:`save_figure` for its plot, so the scripts themselves
read as the experiment and nothing else.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import minigrad as mg

#: Where every example writes its picture (git-ignored).
OUTPUT_DIR = Path(__file__).resolve().parent / "output"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the flags every example shares."""
    p = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="a few-second run with less data / fewer steps (used by the tests)")
    p.add_argument("--seed", type=int, default=0, help="seed for minigrad and NumPy")
    p.add_argument("--no-plot", action="store_true", help="skip writing the figure")
    return p


def setup(seed: int) -> np.random.Generator:
    """Seed minigrad's generator and return a NumPy Generator from the same seed.

    Both are needed: minigrad draws initial weights, the example draws data
    splits and minibatch orders, and either one unseeded would make the printed
    numbers change from run to run. Also limits BLAS to one thread (see
    :func:`one_blas_thread`).
    """
    global _BLAS_LIMIT
    if _BLAS_LIMIT is None:
        _BLAS_LIMIT = one_blas_thread()
    mg.manual_seed(seed)
    return np.random.default_rng(seed)


_BLAS_LIMIT = None


def one_blas_thread():
    """Limit NumPy's BLAS to one thread for the rest of the process; return the limiter.

    The examples multiply small matrices (a few hundred rows), where threads
    cannot pay for themselves, and on a machine whose other cores are busy a
    multi-threaded OpenBLAS call waits for them: a (128, 30) @ (30, 200)
    product was measured at 24 ms with two threads on a loaded two-core machine
    and 0.02 ms with one. Uses ``threadpoolctl`` (installed with scikit-learn);
    without it, nothing changes. ``.restore_original_limits()`` undoes it.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


def progress(iterable=None, **kwargs):
    """A tqdm progress bar on stderr (stdout stays clean for the results)."""
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    kwargs.setdefault("mininterval", 0.2)
    # Tests and CI set this so their logs do not fill with redraws.
    if os.environ.get("MINIGRAD_EXAMPLES_NO_PROGRESS"):
        kwargs["disable"] = True
    return tqdm(iterable, **kwargs)


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, name: str) -> Path:
    """Save ``fig`` as ``examples/output/<name>``, close it and return the path."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    print(f"figure saved to {path}")
    return path


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Yield index arrays covering ``range(n)`` once, in a fresh random order."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
