"""Per-op overhead: one tiny op, forward + backward, minigrad vs PyTorch (CPU) in one run.

Usage::

    python benchmarks/bench_overhead.py             # ~1 minute
    python benchmarks/bench_overhead.py --quick     # fewer rounds
    python benchmarks/bench_overhead.py --only add,matmul

A run is saved in ``benchmarks/results/overhead.txt``.

On 32×32 inputs the arithmetic costs a few hundred nanoseconds; what is timed is
the framework around it: argument handling, making the output tensor, recording
the node, the backward engine's walk, the op's backward, accumulating into
``.grad`` and freeing what the node saved. That is what dominates small-batch
training (the makemore MLP at batch 32, a GRU language model).

One sample is ``y = op(inputs); y.backward(g)`` (``g`` a fixed gradient of
``y``'s shape; ``backward()`` for a scalar ``y``), repeated ``--inner`` times
and divided. ``.grad`` is reset to None before each sample, so every sample
adopts a fresh gradient array, as the first backward after ``zero_grad`` does.
``linear_tanh_sum`` chains four ops; ``makemore_step`` is a whole training step
of the makemore MLP (embedding 27×10, context 3, hidden 200, batch 32: indexing,
view, matmul, bias add, tanh, cross-entropy, ``zero_grad``, backward, SGD).

Fairness on a small shared machine: one thread for both (BLAS, torch, minigrad's
kernels; set before NumPy loads); the frameworks alternate, op by op, within
each round, so a noisy neighbour slows both; the figure reported is the lower
quartile over rounds (the least-disturbed samples), and the ratio
``minigrad / torch`` of those (< 1: minigrad is faster).
"""
import argparse
import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, _ROOT)

N = 32  # the side of every input: batch 32, width 32


def _cases(lib, F):
    """name -> a function running one forward + backward of that op in ``lib`` (minigrad or torch)."""
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)

    a, b, w = leaf(N, N), leaf(N, N), leaf(N, N)
    bias = leaf(N)
    ones = lib.tensor(np.ones((N, N), np.float32))
    target = lib.tensor(rng.integers(0, N, N).astype(np.int64))
    index = lib.tensor(rng.integers(0, N, N).astype(np.int64))
    leaves = (a, b, w, bias)

    def run(y, g=None):
        y.backward(g)
        for t in leaves:
            t.grad = None

    # A whole small training step, the makemore MLP's (embedding 27×10, context 3,
    # hidden 200, batch 32): indexing, view, matmul, bias add, tanh, cross-entropy, SGD.
    emb, w1, b1 = leaf(27, 10), leaf(30, 200), leaf(200)
    w2, b2 = leaf(200, 27), leaf(27)
    xs = lib.tensor(rng.integers(0, 27, (N, 3)).astype(np.int64))
    ys = lib.tensor(rng.integers(0, 27, N).astype(np.int64))
    sgd = lib.optim.SGD([emb, w1, b1, w2, b2], lr=0.01)

    def makemore_step():
        h = (emb[xs].view(-1, 30) @ w1 + b1).tanh()
        loss = F.cross_entropy(h @ w2 + b2, ys)
        sgd.zero_grad()
        loss.backward()
        sgd.step()

    return {
        "add": lambda: run(a + b, ones),
        "add_bias": lambda: run(a + bias, ones),
        "mul": lambda: run(a * b, ones),
        "matmul": lambda: run(a @ w, ones),
        "sum": lambda: run(a.sum()),
        "tanh": lambda: run(a.tanh(), ones),
        "cross_entropy": lambda: run(F.cross_entropy(a, target)),
        "embedding": lambda: run(F.embedding(index, w), ones),
        "linear_tanh_sum": lambda: run((a @ w + bias).tanh().sum()),
        "makemore_step": makemore_step,
    }


def _time(fn, inner: int) -> float:
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 30, quick 10)")
    parser.add_argument("--inner", type=int, default=200, help="repetitions per sample")
    parser.add_argument("--only", default=None, help="comma-separated op names")
    args = parser.parse_args()
    rounds = args.rounds or (10 if args.quick else 30)

    from _which import require_compiled_kernels

    require_compiled_kernels()
    import minigrad
    import minigrad.nn.functional as mF
    import minigrad.optim
    import minigrad.kernels
    import torch
    import torch.nn.functional as tF
    import torch.optim

    torch.set_num_threads(1)
    minigrad.kernels.set_num_threads(1)
    mg, tt = _cases(minigrad, mF), _cases(torch, tF)
    names = list(mg) if args.only is None else args.only.split(",")
    for name in names:  # warm-up: first calls build caches on both sides
        _time(mg[name], 20)
        _time(tt[name], 20)
    samples = {name: ([], []) for name in names}
    for r in range(rounds):
        for name in names:
            first, second = (mg, tt) if r % 2 == 0 else (tt, mg)  # alternate who goes first
            t1 = _time(first[name], args.inner)
            t2 = _time(second[name], args.inner)
            m, t = (t1, t2) if first is mg else (t2, t1)
            samples[name][0].append(m)
            samples[name][1].append(t)

    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, numpy {np.__version__}, minigrad {minigrad.__version__} (kernels: {minigrad.kernels.BACKEND})")
    print(f"one thread each; {rounds} interleaved rounds of {args.inner}; load average {load:.1f} at the end")
    print(f"{'op (32x32), fwd+bwd':<22}{'minigrad µs':>12}{'torch µs':>10}{'ratio':>8}")
    for name in names:
        m = float(np.percentile(samples[name][0], 25)) * 1e6
        t = float(np.percentile(samples[name][1], 25)) * 1e6
        print(f"{name:<22}{m:>12.1f}{t:>10.1f}{m / t:>8.2f}")


if __name__ == "__main__":
    main()
