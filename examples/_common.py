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

#: Where an example writes its picture unless told otherwise (git-ignored).
OUTPUT_DIR = Path(__file__).resolve().parent / "output"

#: The first line of a ``--quick`` run's output: its numbers are not the documented ones.
QUICK_LABEL = ("REDUCED RUN (--quick): less data and fewer steps than the default run; "
               "its numbers are not the ones quoted in the documentation.")


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the flags every example shares."""
    p = argparse.ArgumentParser(description=description.strip().splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="a few-second run with less data / fewer steps (used by the tests)")
    p.add_argument("--seed", type=int, default=0, help="seed for minigrad and NumPy")
    p.add_argument("--no-plot", action="store_true", help="skip writing the figure")
    p.add_argument("--out", metavar="DIR", type=Path,
                   default=Path(os.environ.get("MINIGRAD_EXAMPLES_OUT") or OUTPUT_DIR),
                   help="folder for the figure (default: $MINIGRAD_EXAMPLES_OUT, else examples/output)")
    return p


def parse_args(p: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse the command line; a ``--quick`` run says first that its numbers are reduced."""
    args = p.parse_args(argv)
    if args.quick:
        print(QUICK_LABEL)
    return args


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


def save_figure(fig, name: str, out_dir) -> Path:
    """Save ``fig`` as ``<out_dir>/<name>`` (the ``--out`` folder), close it and return the path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    pyplot().close(fig)
    print(f"figure saved to {path}")
    return path


def label_points(ax, xy, labels, colors=None, fontsize=7) -> list:
    """Write each label next to its point where it covers no other label or point and stays inside the axes.

    Greedy: each label tries eight positions around its point and keeps the first
    that overlaps nothing placed so far (else the one that overlaps least).
    Positions are measured on the drawn figure, so call this after the layout is
    final (``fig.tight_layout()``, axis limits set). Returns the text artists.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    points = [ax.transData.transform(p) for p in xy]
    pad = 3.0  # pixels around a point that a label must not cover
    point_boxes = [(x - pad, y - pad, x + pad, y + pad) for x, y in points]
    positions = [(4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                 (-4, -3, "right", "top"), (0, 5, "center", "bottom"), (0, -5, "center", "top"),
                 (6, 0, "left", "center"), (-6, 0, "right", "center")]

    def overlap(a, b):
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        return w * h if w > 0 and h > 0 else 0.0

    placed, texts = [], []
    for k, label in enumerate(labels):
        best = None
        for dx, dy, ha, va in positions:
            t = ax.annotate(label, xy[k], xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, color=None if colors is None else colors[k])
            e = t.get_window_extent(renderer)
            box = (e.x0 - 1, e.y0 - 1, e.x1 + 1, e.y1 + 1)
            cost = sum(overlap(box, b) for b in placed)
            cost += sum(overlap(box, b) for j, b in enumerate(point_boxes) if j != k)
            cost += 10 * ((box[2] - box[0]) * (box[3] - box[1])
                          - overlap(box, (inside.x0, inside.y0, inside.x1, inside.y1)))
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, t, box)
            else:
                t.remove()
            if cost == 0:
                break
        placed.append(best[2])
        texts.append(best[1])
    return texts


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Yield index arrays covering ``range(n)`` once, in a fresh random order."""
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]
