"""Embedding vs Linear: the same function, a different bill.

An embedding lookup ``embedding(idx, W)`` returns the rows ``W[idx]``. Writing
each index as a one-hot row vector gives the same numbers as a matrix product,
``one_hot(idx) @ W`` -- that is, a Linear layer without bias applied to one-hot
inputs. This script shows, with real runs:

1. **Same forward, same gradient.** Both paths give the same output and the same
   weight gradient (max absolute difference printed; float64).
2. **Only looked-up rows learn.** The weight gradient is non-zero only in the
   rows whose index appeared in the batch; with ``sparse=True`` the gradient is
   stored as just those rows.
3. **The bill.** Time (forward + backward) and memory as the vocabulary V grows,
   for n looked-up indices and embedding width d. The one-hot product does
   O(n·V·d) work and materialises an (n, V) matrix; the lookup does O(n·d)
   work (plus, for a dense gradient, zero-filling a (V, d) array). The plot is
   log-log, so a slope of 1 means "linear in V".

Data: random indices drawn with a seeded NumPy Generator; nothing is downloaded.

Run ``python examples/embedding_vs_linear.py`` (about 5 seconds of CPU time) or add
``--quick`` (about 2 seconds). The figure goes to
``examples/output/embedding_vs_linear.png`` (``--out DIR`` for another folder).
"""
from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402


def one_hot(idx: np.ndarray, num_classes: int, dtype=np.float32) -> np.ndarray:
    """The (n, V) matrix with a single 1 per row, at column ``idx[i]``."""
    out = np.zeros((idx.size, num_classes), dtype=dtype)
    out[np.arange(idx.size), idx.ravel()] = 1
    return out


def sparse_embedding(idx, weight):
    """``embedding(idx, weight)`` with a row-sparse weight gradient."""
    return F.embedding(idx, weight, sparse=True)


# ----------------------------------------------------------------------------
# 1 and 2: equality of the two paths, and which rows get gradient
# ----------------------------------------------------------------------------
def compare(V: int, d: int, n: int, rng: np.random.Generator) -> dict:
    """Run both paths on the same weight and cotangent; return the differences."""
    w0 = rng.standard_normal((V, d))
    # A small batch from a big vocabulary, with repeats, like a real minibatch.
    idx = rng.integers(0, V, size=n)
    cotangent = mg.from_numpy(rng.standard_normal((n, d)))

    w_emb = mg.tensor(w0, requires_grad=True)
    y_emb = F.embedding(mg.from_numpy(idx), w_emb)
    # A random cotangent (not .sum()) so a wrong row or a wrong count shows up.
    (y_emb * cotangent).sum().backward()

    w_lin = mg.tensor(w0, requires_grad=True)
    y_lin = mg.from_numpy(one_hot(idx, V, np.float64)) @ w_lin
    (y_lin * cotangent).sum().backward()

    g_emb, g_lin = w_emb.grad.numpy(), w_lin.grad.numpy()
    res = {
        "V": V, "d": d, "n": n,
        "forward_max_abs_diff": float(np.max(np.abs(y_emb.detach().numpy() - y_lin.detach().numpy()))),
        "grad_max_abs_diff": float(np.max(np.abs(g_emb - g_lin))),
        "unique_indices": int(np.unique(idx).size),
        "nonzero_grad_rows_embedding": int(np.count_nonzero(np.any(g_emb != 0, axis=1))),
        "nonzero_grad_rows_one_hot": int(np.count_nonzero(np.any(g_lin != 0, axis=1))),
    }

    w_sp = mg.tensor(w0, requires_grad=True)
    (sparse_embedding(mg.from_numpy(idx), w_sp) * cotangent).sum().backward()
    g = w_sp.grad
    res["sparse_grad_stored_rows"] = int(g._nnz())
    res["sparse_grad_rows_after_coalesce"] = int(g.coalesce()._nnz())
    res["sparse_grad_max_abs_diff"] = float(np.max(np.abs(g.to_dense().numpy() - g_lin)))
    return res


# ----------------------------------------------------------------------------
# 3: time and memory against the vocabulary size
# ----------------------------------------------------------------------------
def _step_one_hot(idx, w, cot):
    x = mg.from_numpy(one_hot(idx, w.shape[0]))  # building the one-hot is part of the bill
    (((x @ w) * cot).sum()).backward()


def _step_embedding(idx, w, cot):
    ((F.embedding(idx, w) * cot).sum()).backward()


def _step_sparse(idx, w, cot):
    ((sparse_embedding(idx, w) * cot).sum()).backward()


def measure(step, idx, w, cot, repeats: int, budget: float = 0.25) -> tuple[float, int]:
    """Best time of one forward+backward, and the peak bytes that step allocates.

    At least ``repeats`` runs, more (up to 50) while the total stays under
    ``budget`` seconds: the minimum of many runs filters out the noise of a
    busy machine, which matters for the sub-millisecond lookups.
    """
    times = []
    while len(times) < repeats or (sum(times) < budget and len(times) < 50):
        w.grad = None
        t0 = time.perf_counter()
        step(idx, w, cot)
        times.append(time.perf_counter() - t0)
    w.grad = None
    gc.collect()
    # NumPy reports its buffers to tracemalloc, so this is the extra memory the step allocates.
    tracemalloc.start()
    step(idx, w, cot)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    w.grad = None
    return min(times), peak


def scaling(vocab_sizes, d: int, n: int, repeats: int, rng: np.random.Generator) -> list[dict]:
    """Time and peak memory of the three paths for each vocabulary size."""
    rows = []
    # _common.setup limited BLAS to one thread: a fair count of work, not of idle cores.
    for V in _common.progress(vocab_sizes, desc="vocabulary sizes", unit="V"):
        rows.append(_scaling_row(V, d, n, repeats, rng))
    return rows


def _scaling_row(V, d, n, repeats, rng) -> dict:
    """Time and peak memory of the three paths at one vocabulary size."""
    w = mg.randn(V, d, requires_grad=True)
    idx = mg.from_numpy(rng.integers(0, V, size=n))
    cot = mg.from_numpy(rng.standard_normal((n, d)).astype(np.float32))
    row = {"V": V, "one_hot_bytes": n * V * 4}
    row["t_one_hot"], row["mem_one_hot"] = measure(_step_one_hot, idx.numpy(), w, cot, repeats)
    row["t_embedding"], row["mem_embedding"] = measure(_step_embedding, idx, w, cot, repeats)
    row["t_sparse"], row["mem_sparse"] = measure(_step_sparse, idx, w, cot, repeats)
    return row


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x over the larger half of x.

    The small sizes are dominated by fixed per-call overhead, which hides the
    asymptotic growth the slope is meant to show.
    """
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    half = len(x) // 2
    return float(np.polyfit(x[half:], y[half:], 1)[0])


def plot(rows, n: int, d: int, out_dir):
    plt = _common.pyplot()
    V = [r["V"] for r in rows]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax_t.loglog(V, [r["t_one_hot"] * 1e3 for r in rows], "o-", label="one_hot(idx) @ W  (Linear)")
    ax_t.loglog(V, [r["t_embedding"] * 1e3 for r in rows], "s-", label="embedding, dense grad")
    ax_t.loglog(V, [r["t_sparse"] * 1e3 for r in rows], "^-", label="embedding, sparse grad")
    ax_t.set_xlabel("vocabulary size V")
    ax_t.set_ylabel("forward + backward time (ms)")
    ax_t.set_title(f"time, n = {n} indices, d = {d}")
    ax_t.legend()
    ax_t.grid(True, which="both", alpha=0.3)

    ax_m.loglog(V, [r["mem_one_hot"] / 2**20 for r in rows], "o-", label="one-hot path, peak")
    ax_m.loglog(V, [r["one_hot_bytes"] / 2**20 for r in rows], "k--", lw=1,
                label="size of the one-hot matrix n·V·4 B")
    ax_m.loglog(V, [r["mem_embedding"] / 2**20 for r in rows], "s-", label="embedding, dense grad, peak")
    ax_m.loglog(V, [r["mem_sparse"] / 2**20 for r in rows], "^-", label="embedding, sparse grad, peak")
    ax_m.set_xlabel("vocabulary size V")
    ax_m.set_ylabel("memory allocated by one step (MiB)")
    ax_m.set_title("memory (weight itself not counted)")
    ax_m.legend(fontsize=8)
    ax_m.grid(True, which="both", alpha=0.3)
    fig.suptitle("Embedding lookup vs one-hot @ W: same numbers, O(n·d) vs O(n·V·d)")
    return _common.save_figure(fig, "embedding_vs_linear.png", out_dir)


def main(argv=None) -> dict:
    """Run the three demonstrations; return the numbers (for tests)."""
    args = _common.parse_args(_common.parser(__doc__), argv)
    rng = _common.setup(args.seed)

    print("1. embedding(idx, W) vs one_hot(idx) @ W   (float64, random cotangent)")
    eq = compare(V=1000, d=16, n=64, rng=rng)
    print(f"   V = {eq['V']}, d = {eq['d']}, n = {eq['n']} indices "
          f"({eq['unique_indices']} distinct)")
    print(f"   max |forward difference|        = {eq['forward_max_abs_diff']:.3g}")
    print(f"   max |weight-gradient difference| = {eq['grad_max_abs_diff']:.3g}")
    print("2. which rows of W receive gradient")
    print(f"   rows with non-zero gradient: embedding {eq['nonzero_grad_rows_embedding']}, "
          f"one-hot {eq['nonzero_grad_rows_one_hot']}, of V = {eq['V']} "
          f"(= the {eq['unique_indices']} distinct indices)")
    print(f"   sparse=True stores {eq['sparse_grad_stored_rows']} rows (one per lookup, "
          f"uncoalesced), {eq['sparse_grad_rows_after_coalesce']} after coalesce(); "
          f"max |difference| to the dense gradient = {eq['sparse_grad_max_abs_diff']:.3g}")

    n, d = 512, 64
    if args.quick:
        vocab_sizes, repeats = [100, 1000, 10_000], 1
    else:
        vocab_sizes, repeats = [100, 300, 1000, 3000, 10_000, 30_000, 100_000], 3
    print(f"3. forward + backward, n = {n} indices, d = {d}, float32, one BLAS thread, best of >= {repeats} runs")
    rows = scaling(vocab_sizes, d, n, repeats, rng)
    header = f"   {'V':>7} {'one-hot ms':>11} {'embed ms':>9} {'sparse ms':>10} " \
             f"{'one-hot MiB':>12} {'embed MiB':>10} {'sparse MiB':>11} {'speed-up':>9}"
    print(header)
    for r in rows:
        print(f"   {r['V']:>7} {r['t_one_hot']*1e3:>11.2f} {r['t_embedding']*1e3:>9.2f} "
              f"{r['t_sparse']*1e3:>10.2f} {r['mem_one_hot']/2**20:>12.2f} "
              f"{r['mem_embedding']/2**20:>10.2f} {r['mem_sparse']/2**20:>11.3f} "
              f"{r['t_one_hot']/r['t_embedding']:>8.0f}x")
    V = [r["V"] for r in rows]
    slopes = {"one_hot": loglog_slope(V, [r["t_one_hot"] for r in rows]),
              "embedding": loglog_slope(V, [r["t_embedding"] for r in rows]),
              "sparse": loglog_slope(V, [r["t_sparse"] for r in rows])}
    print("   log-log slope of time vs V (large V): "
          + ", ".join(f"{k} {v:.2f}" for k, v in slopes.items())
          + "   (1 = linear in V, 0 = independent of V)")
    print("Lesson: embedding(idx, W) *is* one_hot(idx) @ W -- a bias-free Linear layer on "
          "one-hot inputs: same output, same gradient. But it reads only the looked-up rows: the "
          "one-hot product's time and memory grow linearly with V, while the lookup's only "
          "V-dependent cost is zero-filling a dense (V, d) gradient, which sparse=True removes.")
    path = None if args.no_plot else plot(rows, n, d, args.out)
    return {"equality": eq, "scaling": rows, "slopes": slopes, "figure": path}


if __name__ == "__main__":
    main()
