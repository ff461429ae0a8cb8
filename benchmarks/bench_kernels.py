"""Benchmark minigrad's gather / index-add kernels against NumPy and PyTorch, in one run.

Usage::

    python benchmarks/bench_kernels.py            # the full grid (long)
    python benchmarks/bench_kernels.py --quick    # a small grid
    python benchmarks/bench_kernels.py --V 50000 --D 128 --N 65536 --dtype float32 --dist zipf
    python benchmarks/bench_kernels.py --strategies   # index-add: every thread strategy, forced
    python benchmarks/bench_kernels.py --quick --load # with a CPU-bound process busy on one core
    python benchmarks/bench_kernels.py --bandwidth    # GB/s on 1M x 128 float32 vs np.copyto and torch

For every (V, D, N, index distribution, dtype) it prints the median time per
call and the ratio ``other / minigrad`` (> 1: minigrad is faster), then
geometric means. Times include allocating the result where the operation
allocates one (``gather``, ``np.take``, ``F.embedding``); the ``out=``
variants are compared separately. Index-add adds into an existing array in
every contender, except the "embedding backward" pair, which allocates the
zeroed (V, D) gradient: ``zeros + index_add`` vs
``aten.embedding_dense_backward``.

"Best NumPy" is the fastest of several NumPy formulations measured in the same
run (for gather: ``np.take``, ``weight[idx]``, ``np.take(mode='clip')``; for
index-add: ``np.add.at``, a per-column ``np.bincount``, and sort +
``np.add.reduceat``), so the comparison is against NumPy at its best, not
only against ``np.add.at``.
"""
import argparse
import contextlib
import itertools
import math
import os
import statistics
import subprocess
import sys
import time

try:  # import torch first so our OMP_WAIT_POLICY default cannot change torch's runtime
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - torch is in the test extra
    torch = None

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minigrad import kernels  # noqa: E402

from _which import require_compiled_kernels  # noqa: E402  (benchmarks/_which.py)

MAX_BYTES = 2 * 1024**3   # skip shapes whose arrays would need more than this


# ---------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------


def median_time(fn, budget):
    """Median seconds per call of ``fn()``: at least 3 samples, each sample long
    enough (>= 2 ms) for the clock, about ``budget`` seconds in all."""
    fn()  # warm up (page faults, lazy initialisation)
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(2e-3 / once))
    samples = max(3, min(25, int(budget / (once * loops))))
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


def geomean(xs):
    xs = [x for x in xs if x and math.isfinite(x)]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


def make_indices(rng, dist, n, n_rows):
    if dist == "uniform":
        return rng.integers(0, n_rows, n)
    # Zipf-like (word frequencies): rank r drawn with probability ~ 1/r^1.1,
    # ranks scattered over the rows so hot rows are not all adjacent.
    ranks = (rng.zipf(1.1, n) - 1) % n_rows
    return rng.permutation(n_rows)[ranks]


# ---------------------------------------------------------------------------
# NumPy formulations of index-add
# ---------------------------------------------------------------------------


def numpy_bincount_index_add(out, idx, src):
    n_rows = out.shape[0]
    for j in range(out.shape[1]):
        out[:, j] += np.bincount(idx, weights=src[:, j], minlength=n_rows)


def numpy_sort_reduceat_index_add(out, idx, src):
    order = np.argsort(idx, kind="stable")
    sorted_idx = idx[order]
    starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
    out[sorted_idx[starts]] += np.add.reduceat(src[order], starts, axis=0)


# ---------------------------------------------------------------------------
# One case
# ---------------------------------------------------------------------------


def bench_case(V, D, N, dist, dtype, budget, rng, with_torch):
    weight = rng.standard_normal((V, D)).astype(dtype)
    idx = make_indices(rng, dist, N, V)
    src = rng.standard_normal((N, D)).astype(dtype)
    out_rows = np.empty((N, D), dtype)
    grad = np.zeros((V, D), dtype)
    t = {}

    # gather
    t["mg_gather"] = median_time(lambda: kernels.gather(weight, idx), budget)
    t["mg_gather_out"] = median_time(lambda: kernels.gather(weight, idx, out=out_rows), budget)
    t["np_take"] = median_time(lambda: np.take(weight, idx, axis=0), budget)
    t["np_fancy"] = median_time(lambda: weight[idx], budget)
    t["np_take_clip"] = median_time(lambda: np.take(weight, idx, axis=0, mode="clip"), budget)
    t["np_gather_best"] = min(t["np_take"], t["np_fancy"], t["np_take_clip"])

    with one_thread():
        t["mg_gather_1t"] = median_time(lambda: kernels.gather(weight, idx), budget)
        t["mg_index_add_1t"] = median_time(lambda: kernels.index_add(grad, idx, src), budget)

    # index-add into an existing array
    t["mg_index_add"] = median_time(lambda: kernels.index_add(grad, idx, src), budget)
    t["np_add_at"] = median_time(lambda: np.add.at(grad, idx, src), budget)
    candidates = [t["np_add_at"]]
    if D <= 128:
        t["np_bincount"] = median_time(lambda: numpy_bincount_index_add(grad, idx, src), budget)
        candidates.append(t["np_bincount"])
    t["np_sort_reduceat"] = median_time(lambda: numpy_sort_reduceat_index_add(grad, idx, src), budget)
    candidates.append(t["np_sort_reduceat"])
    t["np_index_add_best"] = min(candidates)
    # Embedding backward: allocate the zero gradient, then index-add.
    t["mg_embedding_backward"] = median_time(
        lambda: kernels.index_add(np.zeros((V, D), dtype), idx, src), budget
    )

    if with_torch:
        tw, ti, ts = torch.from_numpy(weight), torch.from_numpy(idx), torch.from_numpy(src)
        tout = torch.from_numpy(out_rows)
        tgrad = torch.from_numpy(grad)
        with torch.no_grad():
            t["torch_embedding"] = median_time(lambda: F.embedding(ti, tw), budget)
            t["torch_index_select_out"] = median_time(lambda: torch.index_select(tw, 0, ti, out=tout), budget)
            t["torch_index_add_"] = median_time(lambda: tgrad.index_add_(0, ti, ts), budget)
            t["torch_embedding_backward"] = median_time(
                lambda: torch.ops.aten.embedding_dense_backward(ts, ti, V, -1, False), budget
            )
    return t


RATIOS = [
    # (label, numerator key, denominator key): ratio = other / minigrad
    ("gather vs best NumPy", "np_gather_best", "mg_gather"),
    ("gather vs np.take", "np_take", "mg_gather"),
    ("gather vs F.embedding", "torch_embedding", "mg_gather"),
    ("gather(out=) vs index_select(out=)", "torch_index_select_out", "mg_gather_out"),
    ("index_add vs np.add.at", "np_add_at", "mg_index_add"),
    ("index_add vs best NumPy", "np_index_add_best", "mg_index_add"),
    ("index_add vs torch index_add_", "torch_index_add_", "mg_index_add"),
    ("zeros+index_add vs aten.embedding_dense_backward", "torch_embedding_backward", "mg_embedding_backward"),
    # The default thread setting against the same kernel forced to one thread (target: >= 0.9).
    ("gather vs itself on one thread", "mg_gather_1t", "mg_gather"),
    ("index_add vs itself on one thread", "mg_index_add_1t", "mg_index_add"),
]


@contextlib.contextmanager
def one_thread():
    """The compiled kernels limited to one thread inside the block."""
    previous = kernels.get_num_threads()
    kernels.set_num_threads(1)
    try:
        yield
    finally:
        kernels.set_num_threads(previous)


@contextlib.contextmanager
def cpu_load(enabled):
    """A CPU-bound process busy on one core for the duration (a shared machine, a laptop
    with a build running): a parallel region whose thread is descheduled stalls."""
    if not enabled:
        yield
        return
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)   # let the scheduler see it
    try:
        yield
    finally:
        hog.kill()
        hog.wait()


def run_bandwidth(args, rng, with_torch):
    """Achieved GB/s (bytes read + written) on large inputs, next to np.copyto of the same bytes."""
    V, D, N = args.bandwidth_shape
    dtype = np.dtype(args.dtype[0])
    weight = rng.standard_normal((V, D), dtype=np.float32).astype(dtype, copy=False)
    idx = rng.integers(0, V, N)
    src = rng.standard_normal((N, D), dtype=np.float32).astype(dtype, copy=False)
    out = np.empty((N, D), dtype)
    grad = np.zeros((V, D), dtype)
    rows_bytes = N * D * dtype.itemsize
    moved = {   # bytes read + written per call
        "np.copyto (N x D)": 2 * rows_bytes, "gather(out=)": 2 * rows_bytes, "np.take(out=)": 2 * rows_bytes,
        "torch index_select(out=)": 2 * rows_bytes,
        "index_add": 3 * rows_bytes, "np.add.at": 3 * rows_bytes, "torch index_add_": 3 * rows_bytes,
    }
    calls = {
        "np.copyto (N x D)": lambda: np.copyto(out, src),
        "gather(out=)": lambda: kernels.gather(weight, idx, out=out),
        "np.take(out=)": lambda: np.take(weight, idx, axis=0, out=out, mode="clip"),
        "index_add": lambda: kernels.index_add(grad, idx, src),
        "np.add.at": lambda: np.add.at(grad, idx, src),
    }
    if with_torch:
        tw, ti, ts, to, tg = (torch.from_numpy(a) for a in (weight, idx, src, out, grad))
        calls["torch index_select(out=)"] = lambda: torch.index_select(tw, 0, ti, out=to)
        calls["torch index_add_"] = lambda: tg.index_add_(0, ti, ts)
    print(f"\nBandwidth: V={V}, D={D}, N={N}, {dtype} (GB/s = bytes read + written / time)")
    for threads in ([1, kernels.get_num_threads()] if kernels.get_num_threads() > 1 else [1]):
        previous = kernels.get_num_threads()
        kernels.set_num_threads(threads)
        if with_torch:
            torch_threads = torch.get_num_threads()
            torch.set_num_threads(threads)
        try:
            for name, fn in calls.items():
                if name == "np.add.at" and threads > 1:
                    continue   # NumPy is single-threaded either way
                sec = median_time(fn, args.budget)
                print(f"  {threads} thread(s)  {name:<26} {sec * 1e3:9.1f} ms  {moved[name] / sec / 1e9:6.2f} GB/s")
        finally:
            kernels.set_num_threads(previous)
            if with_torch:
                torch.set_num_threads(torch_threads)


def case_bytes(V, D, N, itemsize):
    # weight, grad, src, gathered rows, plus temporaries of the NumPy sort path
    return itemsize * (2 * V * D + 4 * N * D)


def tiny_overhead(with_torch):
    """Microseconds per call on a tiny input: the Python door's cost."""
    weight = np.ones((10, 4), np.float32)
    idx = np.array([1, 2, 3])
    src = np.ones((3, 4), np.float32)
    grad = np.zeros((10, 4), np.float32)
    rows = {
        "minigrad gather": lambda: kernels.gather(weight, idx),
        "minigrad index_add": lambda: kernels.index_add(grad, idx, src),
        "np.take": lambda: np.take(weight, idx, axis=0),
        "np.add.at": lambda: np.add.at(grad, idx, src),
    }
    if with_torch:
        tw, ti, ts, tg = (torch.from_numpy(a) for a in (weight, idx, src, grad))
        rows["F.embedding"] = lambda: F.embedding(ti, tw)
        rows["torch index_add_"] = lambda: tg.index_add_(0, ti, ts)
    print("\nTiny-input call overhead (V=10, D=4, N=3, float32), microseconds per call:")
    for name, fn in rows.items():
        print(f"  {name:<22} {median_time(fn, 0.3) * 1e6:7.2f}")


def run_strategies(args, rng):
    """Index-add with each thread strategy forced: the measurements behind the thresholds."""
    names = ["serial", "columns", "rows", "private"]
    print(f"{'V':>8} {'D':>4} {'N':>8} {'dist':>7} {'dtype':>7} " + " ".join(f"{n:>9}" for n in names) + "   (ms)")
    for V, D, N, dist, dtype in itertools.product(args.V, args.D, args.N, args.dist, args.dtype):
        if case_bytes(V, D, N, np.dtype(dtype).itemsize) > MAX_BYTES:
            continue
        idx = make_indices(rng, dist, N, V)
        src = rng.standard_normal((N, D)).astype(dtype)
        grad = np.zeros((V, D), dtype)
        row = []
        for name in names:
            with kernels._force_strategy(name):
                row.append(median_time(lambda: kernels.index_add(grad, idx, src), args.budget) * 1e3)
        print(f"{V:>8} {D:>4} {N:>8} {dist:>7} {dtype:>7} " + " ".join(f"{x:9.3f}" for x in row))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small grid")
    parser.add_argument("--V", type=int, nargs="+", default=[1_000, 50_000, 1_000_000])
    parser.add_argument("--D", type=int, nargs="+", default=[16, 128, 512])
    parser.add_argument("--N", type=int, nargs="+", default=[1_000, 65_536, 1_000_000])
    parser.add_argument("--dist", nargs="+", default=["uniform", "zipf"], choices=["uniform", "zipf"])
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    parser.add_argument("--budget", type=float, default=0.4, help="seconds of timing per contender and case")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--strategies", action="store_true", help="time every index-add thread strategy")
    parser.add_argument("--load", action="store_true",
                        help="keep one core busy with a CPU-bound process while measuring")
    parser.add_argument("--bandwidth", action="store_true", help="GB/s on large inputs vs np.copyto and torch")
    parser.add_argument("--bandwidth-shape", type=int, nargs=3, default=[1_000_000, 128, 1_000_000],
                        metavar=("V", "D", "N"))
    args = parser.parse_args()
    if args.quick:
        args.V, args.D, args.N, args.budget = [1_000, 50_000], [16, 128], [1_000, 65_536], 0.15
    with_torch = torch is not None and not args.no_torch
    rng = np.random.default_rng(0)

    require_compiled_kernels()
    print(f"minigrad backend {kernels.BACKEND}, {kernels.get_num_threads()} threads; numpy {np.__version__}"
          + (f"; torch {torch.__version__}, {torch.get_num_threads()} threads" if with_torch else "; no torch"))
    # Kernel figures depend on the thread setting (a busy core stalls a two-thread run): say which.
    print("thread settings: " + ", ".join(f"{v}={os.environ.get(v, '(unset)')}" for v in
                                          ("MINIGRAD_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY")))
    with cpu_load(args.load):
        if args.load:
            print("load: a CPU-bound process keeps one core busy during every measurement")
        if args.strategies:
            run_strategies(args, rng)
        elif args.bandwidth:
            run_bandwidth(args, rng, with_torch)
        else:
            run_grid(args, rng, with_torch)


def run_grid(args, rng, with_torch):
    keys = ["mg_gather", "np_gather_best", "torch_embedding", "mg_gather_out", "torch_index_select_out",
            "mg_index_add", "np_add_at", "np_index_add_best", "torch_index_add_",
            "mg_embedding_backward", "torch_embedding_backward"]
    short = ["g", "g_np*", "g_F.emb", "g(out)", "g_sel(out)", "ia", "add.at", "ia_np*", "ia_torch",
             "bwd", "bwd_torch"]
    print("\nMedian milliseconds per call (g = minigrad gather, ia = minigrad index_add, "
          "* = best NumPy formulation, bwd = zeros + index_add):")
    print(f"{'V':>8} {'D':>4} {'N':>8} {'dist':>7} {'dtype':>7} " + " ".join(f"{s:>10}" for s in short))
    results = []
    for V, D, N, dist, dtype in itertools.product(args.V, args.D, args.N, args.dist, args.dtype):
        if case_bytes(V, D, N, np.dtype(dtype).itemsize) > MAX_BYTES:
            continue
        t = bench_case(V, D, N, dist, np.dtype(dtype), args.budget, rng, with_torch)
        results.append(((V, D, N, dist, dtype), t))
        cells = [f"{t[k] * 1e3:10.3f}" if k in t else f"{'-':>10}" for k in keys]
        print(f"{V:>8} {D:>4} {N:>8} {dist:>7} {dtype:>7} " + " ".join(cells), flush=True)

    print("\nRatios other / minigrad (> 1: minigrad faster): geometric mean [min, max]")
    for label, num, den in RATIOS:
        for subset, keep in (("all", lambda c: True), ("N >= 64k", lambda c: c[2] >= 65_536)):
            ratios = [t[num] / t[den] for case, t in results if num in t and keep(case)]
            if ratios:
                print(f"  {label:<50} {subset:>9}: {geomean(ratios):6.2f}  [{min(ratios):5.2f}, {max(ratios):6.2f}]")

    tiny_overhead(with_torch)


if __name__ == "__main__":
    main()
