"""Benchmark minigrad's gather / index-add kernels against NumPy and PyTorch, in one run.

Usage::

    python benchmarks/bench_kernels.py            # the full grid (long)
    python benchmarks/bench_kernels.py --quick    # a small grid
    python benchmarks/bench_kernels.py --V 50000 --D 128 --N 65536 --dtype float32 --dist zipf
    python benchmarks/bench_kernels.py --strategies   # index-add: every thread strategy, forced
    python benchmarks/bench_kernels.py --quick --load # with a CPU-bound process busy on one core
    python benchmarks/bench_kernels.py --bandwidth    # GB/s on 1M x 128 float32 vs np.copyto and torch

For every (V, D, N, index distribution, dtype) it prints the time per call
(lower quartile of interleaved samples, see :func:`interleaved_times`) and the
ratio ``other / minigrad`` (> 1: minigrad is faster), then geometric means,
then every cell against the targets, PASS or MISS. Times include allocating the result where the operation
allocates one (``gather``, ``np.take``, ``F.embedding``); the ``out=``
variants are compared separately. Index-add adds into an existing array in
every contender, except the "embedding backward" pair, which allocates the
zeroed (V, D) gradient: ``zeros + index_add`` vs
``aten.embedding_dense_backward``.

Every missed cell is then set against what the machine does with the same bytes in the same
rounds: ``np.copyto`` of the (N, D) rows a gather writes, and ``src.sum()``, one pass on one
thread reading the source rows an index-add must read. With ``--load`` torch runs on one thread
(its own two-thread team stalled behind the busy core for seconds per call).

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
import random
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


def time_per_call(fn, budget):
    """Seconds per call of ``fn()`` (lower quartile of >= 5 samples of >= 1 ms, see
    :func:`interleaved_times`), about ``budget`` seconds in all."""
    return interleaved_times({"fn": (fn, None)}, budget)["fn"]


def _loops(fn):
    """Calls per sample so that one sample lasts >= 1 ms (after a warm-up call)."""
    fn()  # warm up (page faults, lazy initialisation)
    once = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn()
        once = min(once, max(time.perf_counter() - start, 1e-7))
    return max(1, int(1e-3 / once)), once


def interleaved_times(contenders, budget):
    """Time several contenders in interleaved rounds: one sample of each per round.

    ``contenders`` maps a name to ``(fn, threads)``; ``threads`` (or None for the
    default) is the kernels' thread setting for that contender's samples.
    Returns seconds per call by name: the lower quartile of the samples.

    On a shared machine other processes take the CPU away in the middle of
    samples, which only ever adds time, at random; a busy core that stalls a
    parallel region does so in nearly every call. The lower quartile drops the
    first and keeps the second; the median let samples 5x apart decide ratios
    on two cores shared by a dozen busy processes. Interleaving gives every
    contender the same mix of quiet and busy moments, and a fresh random order
    every round the same mix of predecessors.
    """
    calibrated = {}
    for name, (fn, threads) in contenders.items():
        with kernel_threads(threads):
            loops, once = _loops(fn)
        calibrated[name] = (fn, threads, loops, once * loops)
    round_seconds = sum(c[3] for c in calibrated.values())
    rounds = max(5, min(40, int(budget * len(contenders) / max(round_seconds, 1e-9))))
    samples = {name: [] for name in contenders}
    order = list(calibrated)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        # A new order every round. In a fixed order each contender always ran right
        # after the same other one (whose arrays fill the caches, and after a PyTorch
        # call, whose OpenMP workers spin on a core for a while): in
        # benchmarks/results/kernels_quick.txt of the fixed order, index-add with the
        # default setting, first of its group, came out up to 1.6x slower than the
        # call right after it, "forced to one thread", although both ran the same
        # single-threaded code.
        shuffle(order)
        for name in order:
            fn, threads, loops, _ = calibrated[name]
            with kernel_threads(threads):
                start = time.perf_counter()
                for _ in range(loops):
                    fn()
                samples[name].append((time.perf_counter() - start) / loops)
    return {name: statistics.quantiles(v, n=4)[0] for name, v in samples.items()}


@contextlib.contextmanager
def kernel_threads(threads):
    """The compiled kernels limited to ``threads`` inside the block (None: leave the setting)."""
    if threads is None:
        yield
        return
    previous = kernels.get_num_threads()
    kernels.set_num_threads(threads)
    try:
        yield
    finally:
        kernels.set_num_threads(previous)


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
    """Seconds per call of every contender (see :func:`interleaved_times`)."""
    weight = rng.standard_normal((V, D)).astype(dtype)
    idx = make_indices(rng, dist, N, V)
    src = rng.standard_normal((N, D)).astype(dtype)
    out_rows = np.empty((N, D), dtype)
    grad = np.zeros((V, D), dtype)

    gathers = {
        "mg_gather": (lambda: kernels.gather(weight, idx), None),
        "mg_gather_1t": (lambda: kernels.gather(weight, idx), 1),
        "mg_gather_out": (lambda: kernels.gather(weight, idx, out=out_rows), None),
        "np_take": (lambda: np.take(weight, idx, axis=0), None),
        "np_fancy": (lambda: weight[idx], None),
        "np_take_clip": (lambda: np.take(weight, idx, axis=0, mode="clip"), None),
        # The machine's own speed on the same bytes, for the reasons of missed cells:
        # a copy of the (N, D) rows (what a gather writes) ...
        "np_copyto": (lambda: np.copyto(out_rows, src), None),
    }
    # index-add into an existing array; "embedding backward" allocates the zero gradient first
    index_adds = {
        "mg_index_add": (lambda: kernels.index_add(grad, idx, src), None),
        "mg_index_add_1t": (lambda: kernels.index_add(grad, idx, src), 1),
        "np_add_at": (lambda: np.add.at(grad, idx, src), None),
        "np_sort_reduceat": (lambda: numpy_sort_reduceat_index_add(grad, idx, src), None),
        "mg_embedding_backward": (lambda: kernels.index_add(np.zeros((V, D), dtype), idx, src), None),
        # ... and one pass reading the source rows on one thread (what index-add must read).
        "np_read_src": (lambda: src.sum(), None),
    }
    if D <= 128:
        index_adds["np_bincount"] = (lambda: numpy_bincount_index_add(grad, idx, src), None)
    if with_torch:
        tw, ti, ts = torch.from_numpy(weight), torch.from_numpy(idx), torch.from_numpy(src)
        tout = torch.from_numpy(out_rows)
        tgrad = torch.from_numpy(grad)
        gathers["torch_embedding"] = (lambda: F.embedding(ti, tw), None)
        gathers["torch_index_select_out"] = (lambda: torch.index_select(tw, 0, ti, out=tout), None)
        index_adds["torch_index_add_"] = (lambda: tgrad.index_add_(0, ti, ts), None)
        index_adds["torch_embedding_backward"] = (
            lambda: torch.ops.aten.embedding_dense_backward(ts, ti, V, -1, False), None)
    t = {}
    with torch.no_grad() if with_torch else contextlib.nullcontext():
        for group in (gathers, index_adds):
            t.update(interleaved_times(group, budget))
    t["np_gather_best"] = min(t["np_take"], t["np_fancy"], t["np_take_clip"])
    t["np_index_add_best"] = min(t[k] for k in ("np_add_at", "np_bincount", "np_sort_reduceat") if k in t)
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
def cpu_load(enabled):
    """A CPU-bound process pinned to one core for the duration (a shared machine, a laptop
    with a build running): a parallel region whose thread is descheduled stalls."""
    if not enabled:
        yield
        return
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pin = f"os.sched_setaffinity(0, {{{cpus[-1]}}})\n" if cpus else ""
    # The loop ends when this process does, however it ends (its parent changes).
    hog = subprocess.Popen([sys.executable, "-c",
                            f"import os\n{pin}parent = {os.getpid()}\nwhile os.getppid() == parent: pass"])
    time.sleep(0.5)   # let the scheduler see it
    try:
        print(f"load: a CPU-bound process (pid {hog.pid}) keeps "
              + (f"CPU {cpus[-1]}" if cpus else "one core") + " busy during every measurement", flush=True)
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
                sec = time_per_call(fn, args.budget)
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
        print(f"  {name:<22} {time_per_call(fn, 0.3) * 1e6:7.2f}")


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
                row.append(time_per_call(lambda: kernels.index_add(grad, idx, src), args.budget) * 1e3)
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
    if args.load and with_torch:
        # torch's own OpenMP team (2 threads) stalls behind the busy core just as a naive
        # parallel kernel does: its contenders took seconds per call and the grid did not
        # finish. Under load torch is timed on one thread; the figures say so.
        torch.set_num_threads(1)
        print(f"load mode: torch set to {torch.get_num_threads()} thread")
    with cpu_load(args.load):
        if args.strategies:
            run_strategies(args, rng)
        elif args.bandwidth:
            run_bandwidth(args, rng, with_torch)
        else:
            run_grid(args, rng, with_torch)


#: The targets every cell of the grid must meet with default settings:
#: (label, numerator key, denominator key, least ratio numerator / denominator).
TARGETS = [
    ("gather >= 1.0x np.take", "np_take", "mg_gather", 1.0),
    ("index_add >= 15x np.add.at", "np_add_at", "mg_index_add", 15.0),
    ("gather at most 10% slower than on one thread", "mg_gather_1t", "mg_gather", 1 / 1.1),
    ("index_add at most 10% slower than on one thread", "mg_index_add_1t", "mg_index_add", 1 / 1.1),
]
#: Goal, where two threads pay (large work, idle machine): gather 1.5x np.take.
GATHER_GOAL = 1.5


def print_miss_reasons(results, misses):
    """For every missed cell, the kernel's time next to what the machine does with the same bytes.

    A gather writes the (N, D) rows that ``np.copyto`` writes; an index-add reads the
    (N, D) source rows that ``src.sum()`` reads on one thread. A kernel within a small
    factor of those is limited by the memory system, not by its code: the target would
    need the other contender to be slower, or (index-add) a second core's share of the reading.
    """
    missed = {case for label in misses for case, _ in misses[label]}
    if not missed:
        return
    print("\nMissed cells, each kernel against the machine on the same bytes (ms; np.copyto of the N x D rows, "
          "src.sum(): one pass reading the source on one thread):")
    for case, t in results:
        if case not in missed:
            continue
        where = f"{case[0]:>8} {case[1]:>4} {case[2]:>8} {case[3]:>7} {case[4]:>7}  "
        need_ia = t["np_add_at"] / 15.0
        print(where + f"gather {t['mg_gather'] * 1e3:.3f} (np.take {t['np_take'] * 1e3:.3f}) = "
              f"{t['mg_gather'] / t['np_copyto']:.2f}x np.copyto {t['np_copyto'] * 1e3:.3f}; "
              f"index_add {t['mg_index_add'] * 1e3:.3f} = {t['mg_index_add'] / t['np_read_src']:.2f}x "
              f"src.sum() {t['np_read_src'] * 1e3:.3f}, 15x np.add.at needs <= {need_ia * 1e3:.3f} "
              f"= {need_ia / t['np_read_src']:.2f}x src.sum()")


def run_grid(args, rng, with_torch):
    keys = ["mg_gather", "np_gather_best", "torch_embedding", "mg_gather_out", "torch_index_select_out",
            "mg_index_add", "np_add_at", "np_index_add_best", "torch_index_add_",
            "mg_embedding_backward", "torch_embedding_backward"]
    short = ["g", "g_np*", "g_F.emb", "g(out)", "g_sel(out)", "ia", "add.at", "ia_np*", "ia_torch",
             "bwd", "bwd_torch"]
    print("\nMilliseconds per call (g = minigrad gather, ia = minigrad index_add, "
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

    print("\nTargets, every cell, default settings (ratio; MISS marks a cell below its target):")
    heads = ["g/np.take", "ia/add.at", "g 1t/dflt", "ia 1t/dflt"]
    print(f"{'V':>8} {'D':>4} {'N':>8} {'dist':>7} {'dtype':>7} " + " ".join(f"{h:>15}" for h in heads))
    misses = {label: [] for label, *_ in TARGETS}
    for case, t in results:
        cells = []
        for label, num, den, least in TARGETS:
            r = t[num] / t[den]
            if r < least:
                misses[label].append((case, r))
            cells.append(f"{r:10.2f} {'MISS' if r < least else '':>4}")
        print(f"{case[0]:>8} {case[1]:>4} {case[2]:>8} {case[3]:>7} {case[4]:>7} " + " ".join(cells))
    print()
    for label, num, den, least in TARGETS:
        ratios = [t[num] / t[den] for _, t in results]
        verdict = "PASS" if not misses[label] else f"MISS in {len(misses[label])} of {len(ratios)} cells"
        print(f"TARGET {label:<50} {verdict}  (min {min(ratios):.2f}, geomean {geomean(ratios):.2f})")
    print_miss_reasons(results, misses)
    at_goal = [t["np_take"] / t["mg_gather"] >= GATHER_GOAL for _, t in results]
    print(f"GOAL   gather >= {GATHER_GOAL}x np.take where two threads pay: {sum(at_goal)} of {len(at_goal)} cells")

    tiny_overhead(with_torch)


if __name__ == "__main__":
    main()
