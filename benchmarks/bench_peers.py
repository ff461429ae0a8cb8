"""Training steps of minigrad and other autograd engines, measured side by side in one run.

Contestants (each is skipped with "not installed" when its package is missing):

* minigrad (this checkout, compiled kernels) and PyTorch (CPU, eager);
* MyGrad (``mygrad``), a NumPy-backed educational engine;
* tinygrad (``tinygrad``) on its CPU device (``DEV=CPU``; it compiles its kernels with
  ``clang``, which must be on ``PATH``), eager and with its ``TinyJit``. Its ``nn.Embedding`` runs
  with ``USE_ATOMICS=1``, tinygrad's gather/scatter-add path: by default it looks rows up as a
  one-hot comparison against the whole vocabulary, which makes the ``bag`` step many times
  slower (run with ``USE_ATOMICS=0`` to see it);
* micrograd (``micrograd``), a scalar engine: one Python object per number, so only the tiny
  workload.

Workloads (one step = forward, loss, backward, plain SGD update):

* ``bag``: mean of 32 embedding rows per example (EmbeddingBag(10,000, 64, mode='mean') in
  minigrad and PyTorch, row indexing + mean elsewhere) → Linear(64, 128) → ReLU →
  Linear(128, 10), cross-entropy, SGD(lr=0.1); batch 256.
* ``tiny``: MLP 2 → 16 → 16 → 1 with ReLU, mean squared error, SGD(lr=0.05); batch 32.

Fairness: every engine starts from the same NumPy weights and sees the same NumPy batches; the
first step's loss of every engine is compared with minigrad's before anything is timed (a
contestant whose loss differs is reported and not timed). Engines run one after the other in
blocks of about 20 ms, round after round, so a noisy neighbour slows all of them; the ratio
reported is the median over rounds of (engine's block / minigrad's block in the same round).
One thread everywhere (BLAS, torch, minigrad's kernels) unless ``--threads`` says otherwise.

The peers are not dependencies of minigrad: install them in a separate virtual environment and
run the script from the checkout with the kernels built in place::

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install numpy torch==2.13.0 mygrad tinygrad micrograd
    apt-get install clang                 # for tinygrad's CPU device
    python setup.py build_ext --inplace   # with the same Python version and NumPy
    PYTHONPATH=$PWD /tmp/peers-venv/bin/python benchmarks/bench_peers.py [--quick] [--only bag|tiny]

A full run takes about a minute (micrograd needs about a second per step). The output of one
run is kept in ``benchmarks/results/peers.txt``.
"""
import argparse
import os
import statistics
import sys
import time


def _threads_from_argv(argv) -> int:
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


# BLAS pools read their size when the library loads; tinygrad picks its device at first use.
_THREADS = _threads_from_argv(sys.argv)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(_THREADS))
os.environ.setdefault("DEV", "CPU")
os.environ.setdefault("NUM_CPU_THREADS", str(_THREADS))  # tinygrad's CPU device
os.environ.setdefault("USE_ATOMICS", "1")

import numpy as np  # noqa: E402

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, _ROOT)

V, D, BAG_LEN, HIDDEN, CLASSES = 10_000, 64, 32, 128, 10
TINY = (2, 16, 16, 1)
N_BATCHES = 4


# ---------------------------------------------------------------------------
# Shared weights and data (NumPy, float32, PyTorch's (out, in) layout for Linear weights)
# ---------------------------------------------------------------------------


def _linear(rng, n_in, n_out):
    bound = n_in ** -0.5
    return (rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
            rng.uniform(-bound, bound, n_out).astype(np.float32))


def _problem(workload, batch, seed=0):
    """(weights, batches): a list of NumPy parameters and of (x, y) pairs."""
    rng = np.random.default_rng(seed)
    if workload == "bag":
        weights = [rng.standard_normal((V, D)).astype(np.float32), *_linear(rng, D, HIDDEN),
                   *_linear(rng, HIDDEN, CLASSES)]
        data = [(rng.integers(0, V, (batch, BAG_LEN)), rng.integers(0, CLASSES, batch))
                for _ in range(N_BATCHES)]
    else:
        weights = [w for a, b in zip(TINY, TINY[1:]) for w in _linear(rng, a, b)]
        data = [(rng.standard_normal((batch, TINY[0])).astype(np.float32),
                 rng.standard_normal((batch, 1)).astype(np.float32)) for _ in range(N_BATCHES)]
    return weights, data


LR = {"bag": 0.1, "tiny": 0.05}


# ---------------------------------------------------------------------------
# One builder per engine: returns step(i) -> first-step loss as a Python float (on i == 0)
# ---------------------------------------------------------------------------


def _torch_like(torch, workload, weights, data):
    """One program for minigrad and PyTorch: the same source runs on either module."""
    F, optim = torch.nn.functional, torch.optim
    params = [torch.from_numpy(w.copy()).requires_grad_() for w in weights]
    batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
    opt = optim.SGD(params, lr=LR[workload])

    def forward(x, y):
        if workload == "bag":
            emb, w1, b1, w2, b2 = params
            h = F.relu(F.linear(F.embedding_bag(x, emb, mode="mean"), w1, b1))
            return F.cross_entropy(F.linear(h, w2, b2), y)
        h = x
        for k in range(0, len(params), 2):
            h = F.linear(h, params[k], params[k + 1])
            if k + 2 < len(params):
                h = F.relu(h)
        return F.mse_loss(h, y)

    def step(i):
        opt.zero_grad()
        loss = forward(*batches[i % N_BATCHES])
        loss.backward()
        opt.step()
        return float(loss.item()) if i == 0 else None

    return step


def _minigrad(workload, weights, data):
    import minigrad
    import minigrad.nn.functional  # noqa: F401  (loads minigrad.nn and minigrad.optim)
    import minigrad.optim  # noqa: F401

    return _torch_like(minigrad, workload, weights, data)


def _torch(workload, weights, data):
    import torch

    torch.set_num_threads(_THREADS)
    return _torch_like(torch, workload, weights, data)


def _mygrad(workload, weights, data):
    import mygrad as mg
    from mygrad.nnet.activations import relu
    from mygrad.nnet.losses import softmax_crossentropy

    params = [mg.tensor(w.copy()) for w in weights]
    lr = LR[workload]

    def forward(x, y):
        if workload == "bag":
            emb, w1, b1, w2, b2 = params
            h = relu(emb[x].mean(axis=1) @ w1.T + b1)
            return softmax_crossentropy(h @ w2.T + b2, y)
        h = x
        for k in range(0, len(params), 2):
            h = h @ params[k].T + params[k + 1]
            if k + 2 < len(params):
                h = relu(h)
        return mg.mean((h - y) ** 2)

    def step(i):
        loss = forward(*data[i % N_BATCHES])
        loss.backward()
        for p in params:  # plain SGD: MyGrad has no optimizers
            p.data -= lr * p.grad
        return float(loss.item()) if i == 0 else None

    return step


def _tinygrad(workload, weights, data, jit):
    from tinygrad import Tensor, TinyJit
    from tinygrad.helpers import Context
    from tinygrad.nn import Embedding
    from tinygrad.nn.optim import SGD

    params = [Tensor(w.copy()).realize() for w in weights]
    batches = [(Tensor(x).is_param_(False).realize(), Tensor(y).is_param_(False).realize()) for x, y in data]
    opt = SGD(params, lr=LR[workload])
    bag = Embedding(V, D)
    bag.weight = params[0]

    def forward(x, y):
        if workload == "bag":
            _, w1, b1, w2, b2 = params
            h = (bag(x).mean(axis=1).linear(w1.T, b1)).relu()
            return h.linear(w2.T, b2).sparse_categorical_crossentropy(y)
        h = x
        for k in range(0, len(params), 2):
            h = h.linear(params[k].T, params[k + 1])
            if k + 2 < len(params):
                h = h.relu()
        return ((h - y) ** 2).mean()

    def train_step(x, y):
        opt.zero_grad()
        loss = forward(x, y)
        loss.backward()
        # Realize the loss with the update: realized after it, the lazy loss would read the updated weights.
        return loss.realize(*opt.schedule_step())

    run = TinyJit(train_step) if jit else train_step

    def step(i):
        with Context(TRAINING=1):
            loss = run(*batches[i % N_BATCHES])
        return float(loss.item()) if i == 0 else None

    return step


def _micrograd(workload, weights, data):
    from micrograd.nn import MLP

    model = MLP(TINY[0], list(TINY[1:]))
    for layer, w, b in zip(model.layers, weights[0::2], weights[1::2]):
        for j, neuron in enumerate(layer.neurons):
            for k, wk in enumerate(neuron.w):
                wk.data = float(w[j, k])
            neuron.b.data = float(b[j])
    rows = [([[float(v) for v in row] for row in x], [float(v) for v in y[:, 0]]) for x, y in data]
    lr = LR[workload]

    def step(i):
        xs, ys = rows[i % N_BATCHES]
        model.zero_grad()
        loss = sum((model(x) - y) ** 2 for x, y in zip(xs, ys)) * (1.0 / len(xs))
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return loss.data if i == 0 else None

    return step


ENGINES = [
    # (name, module that must import, builder, workloads)
    ("minigrad", "minigrad", _minigrad, ("bag", "tiny")),
    ("PyTorch", "torch", _torch, ("bag", "tiny")),
    ("MyGrad", "mygrad", _mygrad, ("bag", "tiny")),
    ("tinygrad", "tinygrad", lambda *a: _tinygrad(*a, jit=False), ("bag", "tiny")),
    ("tinygrad+JIT", "tinygrad", lambda *a: _tinygrad(*a, jit=True), ("bag", "tiny")),
    ("micrograd", "micrograd", _micrograd, ("tiny",)),
]


def _version(module):
    import importlib.metadata

    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return getattr(sys.modules.get(module), "__version__", "?")


def _time_block(step, steps, start):
    t0 = time.perf_counter()
    for i in range(start, start + steps):
        step(i)
    return (time.perf_counter() - t0) / steps


def compare(workload, batch, budget, min_rounds):
    """Print one table: each engine's median ms per step and its time relative to minigrad's."""
    import importlib

    weights, data = _problem(workload, batch)
    steps, losses = {}, {}
    for name, module, build, workloads in ENGINES:
        if workload not in workloads:
            continue
        try:
            importlib.import_module(module)
        except ImportError:
            print(f"  {name:<14} not installed")
            continue
        try:
            step = build(workload, weights, data)
            losses[name] = step(0)
        except Exception as e:  # a peer that cannot run here (e.g. tinygrad without a C compiler)
            print(f"  {name:<14} could not run: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        steps[name] = step
    ref = losses["minigrad"]
    for name in list(steps):
        # float32 engines agree to ~1e-6; micrograd computes in float64 from the same float32 values.
        if abs(losses[name] - ref) > 1e-4 * max(1.0, abs(ref)):
            print(f"  {name:<14} first-step loss {losses[name]:.6f} differs from minigrad's {ref:.6f}: not timed")
            del steps[name]
    for name, step in steps.items():  # warm-up: optimizer state, caches, tinygrad's JIT capture
        for i in range(1, 4):
            step(i)
    once = {name: max(_time_block(step, 1, 4), 1e-6) for name, step in steps.items()}
    per_block = {name: max(1, int(0.02 / t)) for name, t in once.items()}  # blocks of ~20 ms
    rounds = max(min_rounds, min(40, int(budget / sum(per_block[n] * once[n] for n in steps))))
    times = {name: [] for name in steps}
    i = 5
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(_time_block(step, per_block[name], i))
        i += max(per_block.values())
    print(f"  {'engine':<14}{'version':>12}{'first loss':>12}{'ms/step':>11}{'× minigrad':>12}")
    for name in steps:
        ratio = statistics.median(t / m for t, m in zip(times[name], times["minigrad"]))
        module = next(m for n, m, *_ in ENGINES if n == name)
        print(f"  {name:<14}{_version(module):>12}{losses[name]:>12.6f}"
              f"{statistics.median(times[name]) * 1e3:>11.3f}{ratio:>12.2f}", flush=True)
    print(f"  ({rounds} rounds; '× minigrad' is the median over rounds of the engine's time per step "
          f"over minigrad's in the same round: > 1 means slower than minigrad)")


WORKLOADS = {
    "bag": (256, "EmbeddingBag(10,000, 64, mean) over 32 tokens → 128 → ReLU → 10, cross-entropy, SGD"),
    "tiny": (32, "MLP 2 → 16 → 16 → 1, ReLU, MSE, SGD"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--threads", type=int, default=1, help="threads for every engine (BLAS, torch, kernels)")
    parser.add_argument("--only", choices=list(WORKLOADS), help="one workload only")
    args = parser.parse_args()

    import minigrad
    from _which import require_compiled_kernels  # benchmarks/_which.py

    require_compiled_kernels()
    minigrad.kernels.set_num_threads(args.threads)
    print(f"threads: {args.threads} (" + ", ".join(f"{v}={os.environ.get(v)}" for v in
          ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "DEV", "NUM_CPU_THREADS", "USE_ATOMICS")) + f"), "
          f"numpy {np.__version__}, python {sys.version.split()[0]}, load average "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    budget = 2.0 if args.quick else 8.0
    for workload, (batch, label) in WORKLOADS.items():
        if args.only and workload != args.only:
            continue
        print()
        print(f"{workload}: {label}; batch {batch}")
        compare(workload, batch, budget, 3 if args.quick else 5)
    print()
    print("load average at the end: " + " ".join(f"{x:.1f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
