"""Training steps, minigrad vs PyTorch (CPU), measured side by side in one run.

Usage::

    python benchmarks/bench_training.py            # every workload, ~2 minutes
    python benchmarks/bench_training.py --quick    # shorter timings, same workloads
    python benchmarks/bench_training.py --threads 2
    python benchmarks/bench_training.py --quick --only gpt   # one workload (the GPT's adds its memory line)

Workloads (one training step = forward, loss, ``zero_grad``, ``backward``, optimizer step):

* ``bag``: EmbeddingBag(10,000, 64, mode='mean') over bags of 32 tokens → Linear(64, 128) → ReLU →
  Linear(128, 10), cross-entropy, Adam; batch 256 and 4,096.
* ``mlp``: 784 → 256 → ReLU → 10, cross-entropy, SGD(lr=0.01, momentum=0.9); batch 64 and 1,024.
* ``skipgram``: skip-gram with negative sampling: two Embedding(100,000, 128, sparse=True) tables,
  5 negatives per pair, binary cross-entropy on the logits, SparseAdam; batch 1,024.
* ``gru``: a 2-layer GRU language model: Embedding(64, 32) → GRU(32, 128, num_layers=2) →
  Linear(128, 64), next-token cross-entropy, Adam; 32 sequences of 64 tokens.
* ``gpt``: a 2-block GPT: token + position Embedding (d = 128, context 64), pre-norm blocks with
  causal ``scaled_dot_product_attention`` (4 heads) and a GELU(tanh) MLP (4d), final LayerNorm,
  output head tied to the token embedding, V = 64; cross-entropy, Adam; 32 sequences of 64 tokens.
* ``lenet``: LeNet-style CNN on 1×28×28 inputs: Conv2d(1, 6, 5) → ReLU → MaxPool2d(2) → Conv2d(6, 16, 5)
  → ReLU → MaxPool2d(2) → Linear(256, 120) → ReLU → Linear(120, 10), cross-entropy,
  SGD(lr=0.01, momentum=0.9); batch 64. A third contestant runs the same step in plain NumPy,
  written the common way (im2col by fancy indexing, col2im by ``np.add.at``), in the same run.
* ``makemore``: the makemore character MLP: Embedding(27, 10) over a context of 3 characters,
  flattened to 30 → Linear(30, 200) → tanh → Linear(200, 27), cross-entropy, SGD(lr=0.1);
  batch 32. Tiny matrices: the step is dominated by per-op overhead.
* ``attn``: one causal self-attention block written from primitives (no fused attention):
  token + position Embedding (d = 64, context 32, V = 64), q/k/v Linear(64, 64),
  ``q @ kᵀ / √d``, ``masked_fill`` of the future with -inf, ``softmax``, ``@ v``, output
  projection with a residual connection, Linear(64, 64) head; cross-entropy, Adam; 32 sequences
  of 32 tokens.

Fairness:

* the same model: torch's parameters are copies of minigrad's freshly initialised ones;
* the same data: batches are drawn once with NumPy and shared (``torch.from_numpy``);
* the same optimizer with the same hyper-parameters; torch's optimizers run with their
  default implementation choices (``foreach``/``fused`` left at ``None``);
* the same threads: ``--threads N`` (default 1) sets ``torch.set_num_threads(N)``, minigrad's
  kernel threads (``minigrad.kernels.set_num_threads(N)``) and NumPy's BLAS threads
  (``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS``, set before NumPy loads;
  check the printed line: the environment wins if you set these yourself). One thread is the
  default because benchmarks on a small shared machine are otherwise dominated by threads
  fighting over cores;
* the two frameworks alternate, block by block, so that a noisy neighbour slows both.

Every row that misses its target is followed by the measured reason (:func:`step_anatomy`): the
matrix products minigrad's step makes, replayed alone on NumPy's BLAS and on torch's, with the
ratio the row would have with torch's product times; and the rest of the step, spread over the
backward nodes of each framework's graph, with what minigrad's rest would have to be to meet the
target. Before those, the step's four phases (``zero_grad``, forward and loss, ``backward``, the
optimizer's step) timed apart in both frameworks. The LeNet row adds each layer alone, forward
and backward, in both frameworks.

Reported: the median time per step of each framework, and the ratio
``minigrad / torch`` (< 1: minigrad is faster): the median over neighbouring pairs of blocks
of their ratio, which is robust to the load of a shared machine drifting during the run.

Also measured:

* import time: ``import minigrad, minigrad.nn, minigrad.optim`` (what a training script
  imports) and ``import torch`` in fresh interpreters (the time of the
  import statement alone, interpreter start-up excluded), median of several, both with
  bytecode caches written (``PYTHONDONTWRITEBYTECODE`` is dropped for these runs and one
  untimed import comes first; otherwise minigrad would be compiled from source on every
  import while torch's wheel ships compiled caches);
* peak memory of the skip-gram and the GPT workloads: a fresh interpreter per framework imports it, records
  its resident set size (RSS) after resetting the kernel's peak-RSS mark
  (``/proc/self/clear_refs``), builds the model and optimizer, trains a few steps, and reports
  the peak RSS (``VmHWM``) minus that RSS. Both frameworks are measured
  the same way: the number covers parameters, optimizer state, activations and gradients, and
  excludes the framework's own code and libraries.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time


def _threads_from_argv(argv) -> int:
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


# BLAS thread pools read their size when the library loads: set it before NumPy (and torch) import.
_THREADS = _threads_from_argv(sys.argv)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(_THREADS))

import numpy as np  # noqa: E402

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, _ROOT)

V_BAG, D_BAG, BAG_LEN, CLASSES = 10_000, 64, 32, 10
V_SG, D_SG, NEG_K = 100_000, 128, 5
V_SEQ, T_SEQ = 64, 64  # vocabulary and sequence length of the gru and gpt workloads
V_MM, CTX_MM, EMB_MM, HID_MM = 27, 3, 10, 200  # makemore MLP: characters, context, embedding, hidden
D_ATT, T_ATT = 64, 32  # attention block: width and context
N_BATCHES = 8  # distinct batches cycled through during timing


# ---------------------------------------------------------------------------
# Models (built in both frameworks; torch gets copies of minigrad's weights)
# ---------------------------------------------------------------------------


def _copy_params(mg_model, tt_model):
    import torch

    mg = dict(mg_model.named_parameters())
    tt = dict(tt_model.named_parameters())
    assert mg.keys() == tt.keys(), (mg.keys(), tt.keys())
    with torch.no_grad():
        for name, p in tt.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(mg[name].detach().numpy())))


def _bag_models():
    import minigrad.nn as mnn
    import torch.nn as tnn

    def build(nn):
        class BagClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.bag = nn.EmbeddingBag(V_BAG, D_BAG, mode="mean")
                self.fc1 = nn.Linear(D_BAG, 128)
                self.act = nn.ReLU()
                self.fc2 = nn.Linear(128, CLASSES)

            def forward(self, idx):
                return self.fc2(self.act(self.fc1(self.bag(idx))))

        return BagClassifier()

    return build(mnn), build(tnn)


def _mlp_models():
    import minigrad.nn as mnn
    import torch.nn as tnn

    def build(nn):
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, CLASSES))

    return build(mnn), build(tnn)


def _skipgram_model(nn, F, cat, zeros_like):
    class SkipGram(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Embedding(V_SG, D_SG, sparse=True)
            self.out = nn.Embedding(V_SG, D_SG, sparse=True)

        def forward(self, centre, context, negatives):
            c = self.inp(centre)                                     # (B, D)
            pos = (c * self.out(context)).sum(-1, keepdim=True)      # (B, 1)
            neg = (c.unsqueeze(1) * self.out(negatives)).sum(-1)     # (B, K)
            logits = cat([pos, neg], dim=1)
            target = zeros_like(logits)
            target[:, 0] = 1.0
            return F.binary_cross_entropy_with_logits(logits, target, reduction="sum") / centre.shape[0]

    return SkipGram()


def _lenet_models():
    import minigrad.nn as mnn
    import torch.nn as tnn

    def build(nn):
        return nn.Sequential(
            nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, CLASSES),
        )

    return build(mnn), build(tnn)


class _NumpyLeNet:
    """The LeNet step in plain NumPy, as it is usually written: im2col by fancy indexing, col2im by np.add.at."""

    def __init__(self, mg_model, lr=0.01, momentum=0.9):
        self.params = [np.array(p.detach().numpy()) for p in mg_model.parameters()]  # c1.w, c1.b, c2.w, c2.b, f1.w, f1.b, f2.w, f2.b
        self.bufs = [None] * len(self.params)
        self.lr, self.momentum = lr, momentum
        self._idx = {}

    def _indices(self, c, h, w, k, stride):
        key = (c, h, w, k, stride)
        if key not in self._idx:
            ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
            i = np.tile(np.repeat(np.arange(k), k), c)[:, None] + stride * np.repeat(np.arange(ho), wo)[None, :]
            j = np.tile(np.arange(k), k * c)[:, None] + stride * np.tile(np.arange(wo), ho)[None, :]
            ch = np.repeat(np.arange(c), k * k)[:, None]
            self._idx[key] = (ch, i, j, ho, wo)
        return self._idx[key]

    def _conv(self, x, w, b):
        n, c, h, wd = x.shape
        o, k = w.shape[0], w.shape[2]
        ch, i, j, ho, wo = self._indices(c, h, wd, k, 1)
        cols = x[:, ch, i, j]                                   # (N, C·k·k, L): im2col by fancy indexing
        out = np.matmul(w.reshape(o, -1), cols) + b[:, None]
        return out.reshape(n, o, ho, wo), (x.shape, cols, (ch, i, j))

    def _conv_back(self, dout, w, cache):
        shape, cols, index = cache
        n, o = dout.shape[:2]
        d = dout.reshape(n, o, -1)
        dw = np.tensordot(d, cols, axes=([0, 2], [0, 2])).reshape(w.shape)
        db = d.sum(axis=(0, 2))
        dx = np.zeros(shape, dtype=dout.dtype)
        np.add.at(dx, (slice(None),) + index, np.matmul(w.reshape(o, -1).T, d))  # col2im by np.add.at
        return dx, dw, db

    def _pool(self, x):
        n, c, h, w = x.shape
        ch, i, j, ho, wo = self._indices(c, h, w, 2, 2)
        cols = x[:, ch, i, j].reshape(n, c, 4, ho * wo)
        arg = cols.argmax(axis=2)
        out = np.take_along_axis(cols, arg[:, :, None], axis=2)[:, :, 0]
        return out.reshape(n, c, ho, wo), (x.shape, arg, (ch, i, j))

    def _pool_back(self, dout, cache):
        shape, arg, index = cache
        n, c = dout.shape[:2]
        dcols = np.zeros((n, c, 4, arg.shape[-1]), dtype=dout.dtype)
        np.put_along_axis(dcols, arg[:, :, None], dout.reshape(n, c, 1, -1), axis=2)
        dx = np.zeros(shape, dtype=dout.dtype)
        np.add.at(dx, (slice(None),) + index, dcols.reshape(n, c * 4, -1))
        return dx

    def loss_and_grads(self, x, y):
        c1w, c1b, c2w, c2b, f1w, f1b, f2w, f2b = self.params
        a1, k1 = self._conv(x, c1w, c1b)
        r1 = np.maximum(a1, 0)
        p1, kp1 = self._pool(r1)
        a2, k2 = self._conv(p1, c2w, c2b)
        r2 = np.maximum(a2, 0)
        p2, kp2 = self._pool(r2)
        flat = p2.reshape(len(x), -1)
        h1 = flat @ f1w.T + f1b
        r3 = np.maximum(h1, 0)
        logits = r3 @ f2w.T + f2b
        z = logits - logits.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(len(y)), y].mean()
        g = np.exp(logp)
        g[np.arange(len(y)), y] -= 1
        g /= len(y)
        gf2w, gf2b = g.T @ r3, g.sum(0)
        g = (g @ f2w) * (h1 > 0)
        gf1w, gf1b = g.T @ flat, g.sum(0)
        g = self._pool_back((g @ f1w).reshape(p2.shape), kp2) * (a2 > 0)
        g, gc2w, gc2b = self._conv_back(g, c2w, k2)
        g = self._pool_back(g, kp1) * (a1 > 0)
        _, gc1w, gc1b = self._conv_back(g, c1w, k1)
        return loss, [gc1w, gc1b, gc2w, gc2b, gf1w, gf1b, gf2w, gf2b]

    def step(self, x, y):
        loss, grads = self.loss_and_grads(x, y)
        for k, (p, g) in enumerate(zip(self.params, grads)):
            self.bufs[k] = g.copy() if self.bufs[k] is None else self.momentum * self.bufs[k] + g
            p -= self.lr * self.bufs[k]
        return loss


def _skipgram_models():
    import minigrad
    import minigrad.nn as mnn
    import minigrad.nn.functional as mF
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF

    return (_skipgram_model(mnn, mF, minigrad.cat, minigrad.zeros_like),
            _skipgram_model(tnn, tF, torch.cat, torch.zeros_like))


def _gru_models():
    import minigrad.nn as mnn
    import torch.nn as tnn

    def build(nn):
        class GRULM(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(V_SEQ, 32)
                self.rnn = nn.GRU(32, 128, num_layers=2)
                self.head = nn.Linear(128, V_SEQ)

            def forward(self, idx):  # idx (T, B) → logits (T·B, V)
                return self.head(self.rnn(self.emb(idx))[0]).reshape(-1, V_SEQ)

        return GRULM()

    return build(mnn), build(tnn)


def _gpt_model(nn, F, arange, d=128, heads=4, blocks=2):
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc, self.out = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).reshape(b, t, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(V_SEQ, d), nn.Embedding(T_SEQ, d)
            self.blocks = nn.Sequential(*[Block() for _ in range(blocks)])
            self.ln_f = nn.LayerNorm(d)
            self.head = nn.Linear(d, V_SEQ, bias=False)
            self.head.weight = self.tok.weight  # tied

        def forward(self, idx):  # idx (B, T) → logits (B·T, V)
            x = self.tok(idx) + self.pos(arange(idx.shape[1]))
            return self.head(self.ln_f(self.blocks(x))).reshape(-1, V_SEQ)

    return GPT()


def _makemore_models():
    import minigrad.nn as mnn
    import torch.nn as tnn

    def build(nn):
        class MakemoreMLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(V_MM, EMB_MM)
                self.fc1 = nn.Linear(CTX_MM * EMB_MM, HID_MM)
                self.fc2 = nn.Linear(HID_MM, V_MM)

            def forward(self, idx):  # idx (B, 3) → logits (B, 27)
                h = self.fc1(self.emb(idx).reshape(idx.shape[0], -1)).tanh()
                return self.fc2(h)

        return MakemoreMLP()

    return build(mnn), build(tnn)


def _attn_model(nn, arange, ones):
    class AttentionLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(V_SEQ, D_ATT), nn.Embedding(T_ATT, D_ATT)
            self.q, self.k, self.v = nn.Linear(D_ATT, D_ATT), nn.Linear(D_ATT, D_ATT), nn.Linear(D_ATT, D_ATT)
            self.proj, self.head = nn.Linear(D_ATT, D_ATT), nn.Linear(D_ATT, V_SEQ)
            self.future = ones(T_ATT, T_ATT).triu(1) > 0  # True above the diagonal: masked out

        def forward(self, idx):  # idx (B, T) → logits (B·T, V)
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(arange(t))
            q, k, v = self.q(x), self.k(x), self.v(x)
            scores = (q @ k.transpose(-2, -1)) * D_ATT ** -0.5
            att = scores.masked_fill(self.future[:t, :t], float("-inf")).softmax(-1)
            x = x + self.proj(att @ v)
            return self.head(x).reshape(-1, V_SEQ)

    return AttentionLM()


def _attn_models():
    import minigrad
    import minigrad.nn as mnn
    import torch
    import torch.nn as tnn

    return _attn_model(mnn, minigrad.arange, minigrad.ones), _attn_model(tnn, torch.arange, torch.ones)


def _gpt_models():
    import minigrad
    import minigrad.nn as mnn
    import minigrad.nn.functional as mF
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF

    return _gpt_model(mnn, mF, minigrad.arange), _gpt_model(tnn, tF, torch.arange)


# ---------------------------------------------------------------------------
# Data (NumPy, shared by both frameworks)
# ---------------------------------------------------------------------------


def _zipf_indices(rng, shape, n_rows):
    """Word-frequency-like indices: rank r with probability ~ 1/r^1.1, ranks scattered over rows."""
    ranks = (rng.zipf(1.1, size=shape) - 1) % n_rows
    return rng.permutation(n_rows)[ranks]


def _bag_data(rng, batch):
    return [(_zipf_indices(rng, (batch, BAG_LEN), V_BAG), rng.integers(0, CLASSES, batch))
            for _ in range(N_BATCHES)]


def _mlp_data(rng, batch):
    return [(rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, CLASSES, batch))
            for _ in range(N_BATCHES)]


def _sequence_data(rng, batch, time_major):
    """Token windows and their next tokens (flattened to match the logits)."""
    out = []
    for _ in range(N_BATCHES):
        seq = rng.integers(0, V_SEQ, (batch, T_SEQ + 1))
        x, y = seq[:, :-1], seq[:, 1:]
        if time_major:
            x, y = x.T, y.T
        out.append((np.ascontiguousarray(x), np.ascontiguousarray(y).reshape(-1)))
    return out


def _makemore_data(rng, batch):
    return [(rng.integers(0, V_MM, (batch, CTX_MM)), rng.integers(0, V_MM, batch)) for _ in range(N_BATCHES)]


def _attn_data(rng, batch):
    out = []
    for _ in range(N_BATCHES):
        seq = rng.integers(0, V_SEQ, (batch, T_ATT + 1))
        out.append((np.ascontiguousarray(seq[:, :-1]), np.ascontiguousarray(seq[:, 1:]).reshape(-1)))
    return out


def _image_data(rng, batch):
    return [(rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, CLASSES, batch))
            for _ in range(N_BATCHES)]


def _skipgram_data(rng, batch):
    return [(_zipf_indices(rng, (batch,), V_SG), _zipf_indices(rng, (batch,), V_SG),
             _zipf_indices(rng, (batch, NEG_K), V_SG)) for _ in range(N_BATCHES)]


# ---------------------------------------------------------------------------
# Training steps
# ---------------------------------------------------------------------------


def _step_fns(workload, batch, seed=0):
    """Return (minigrad_step, torch_step): each runs one training step on batch number i."""
    import minigrad
    import minigrad.nn.functional as mF
    import minigrad.optim as moptim
    import torch
    import torch.nn.functional as tF

    minigrad.manual_seed(seed)
    rng = np.random.default_rng(seed)
    if workload == "bag":
        mg_model, tt_model = _bag_models()
        data = _bag_data(rng, batch)
        mg_opt, tt_opt = moptim.Adam(mg_model.parameters()), torch.optim.Adam(tt_model.parameters())
    elif workload == "mlp":
        mg_model, tt_model = _mlp_models()
        data = _mlp_data(rng, batch)
        mg_opt = moptim.SGD(mg_model.parameters(), lr=0.01, momentum=0.9)
        tt_opt = torch.optim.SGD(tt_model.parameters(), lr=0.01, momentum=0.9)
    elif workload == "lenet":
        mg_model, tt_model = _lenet_models()
        data = _image_data(rng, batch)
        mg_opt = moptim.SGD(mg_model.parameters(), lr=0.01, momentum=0.9)
        tt_opt = torch.optim.SGD(tt_model.parameters(), lr=0.01, momentum=0.9)
    elif workload == "skipgram":
        mg_model, tt_model = _skipgram_models()
        data = _skipgram_data(rng, batch)
        mg_opt = moptim.SparseAdam(list(mg_model.parameters()), lr=1e-3)
        tt_opt = torch.optim.SparseAdam(list(tt_model.parameters()), lr=1e-3)
    elif workload in ("gru", "gpt"):
        mg_model, tt_model = _gru_models() if workload == "gru" else _gpt_models()
        data = _sequence_data(rng, batch, time_major=workload == "gru")
        mg_opt, tt_opt = moptim.Adam(mg_model.parameters()), torch.optim.Adam(tt_model.parameters())
    elif workload == "makemore":
        mg_model, tt_model = _makemore_models()
        data = _makemore_data(rng, batch)
        mg_opt, tt_opt = moptim.SGD(mg_model.parameters(), lr=0.1), torch.optim.SGD(tt_model.parameters(), lr=0.1)
    elif workload == "attn":
        mg_model, tt_model = _attn_models()
        data = _attn_data(rng, batch)
        mg_opt, tt_opt = moptim.Adam(mg_model.parameters()), torch.optim.Adam(tt_model.parameters())
    else:
        raise ValueError(workload)
    _copy_params(mg_model, tt_model)
    mg_data = [tuple(minigrad.from_numpy(a) for a in b) for b in data]
    tt_data = [tuple(torch.from_numpy(a) for a in b) for b in data]

    if workload == "skipgram":
        def mg_loss(i):
            return mg_model(*mg_data[i % N_BATCHES])

        def tt_loss(i):
            return tt_model(*tt_data[i % N_BATCHES])
    else:
        def mg_loss(i):
            x, y = mg_data[i % N_BATCHES]
            return mF.cross_entropy(mg_model(x), y)

        def tt_loss(i):
            x, y = tt_data[i % N_BATCHES]
            return tF.cross_entropy(tt_model(x), y)

    mg_step, tt_step = _training_step(mg_opt, mg_loss), _training_step(tt_opt, tt_loss)
    mg_step.model, mg_step.batch = mg_model, mg_data[0]   # for the per-layer times (layer_times)
    tt_step.model, tt_step.batch = tt_model, tt_data[0]
    if workload == "lenet":
        np_model = _NumpyLeNet(mg_model)

        def np_step(i):
            return np_model.step(*data[i % N_BATCHES])

        return mg_step, tt_step, np_step
    return mg_step, tt_step


def _training_step(opt, loss_of_batch):
    """One training step on batch i: ``zero_grad``, forward and loss, ``backward``, optimizer step.

    ``step.phases`` times the four parts separately (:func:`phase_times`).
    """
    def step(i):
        opt.zero_grad()
        loss = loss_of_batch(i)
        loss.backward()
        opt.step()
        return loss

    def phases(i, acc):
        t0 = time.perf_counter()
        opt.zero_grad()
        t1 = time.perf_counter()
        loss = loss_of_batch(i)
        t2 = time.perf_counter()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        for k, dt in enumerate((t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            acc[k] += dt

    step.phases = phases
    return step


def _time_block(step, steps, start):
    t0 = time.perf_counter()
    for i in range(start, start + steps):
        step(i)
    return (time.perf_counter() - t0) / steps


def compare(workload, batch, budget):
    """Median seconds per step for minigrad and torch, alternating blocks of steps, and their ratio.

    Workloads with a plain-NumPy contestant (``lenet``) also return its median and the
    ratio numpy / minigrad, measured in the same alternation.
    """
    steps_fns = _step_fns(workload, batch)
    # Same losses on the first batch: a check that the models really are the same.
    losses = [float(step(0).item()) for step in steps_fns]
    if any(abs(l - losses[1]) > 1e-3 * max(1.0, abs(losses[1])) for l in losses):
        print(f"  warning: first losses differ (minigrad, torch[, numpy]): {losses}")
    times = _alternate(steps_fns, budget, start=1)
    # The ratio is the median of the ratios of neighbouring blocks: on a shared machine the
    # load drifts over seconds, and neighbours see nearly the same load.
    ratio = statistics.median(m / t for m, t in zip(times[0], times[1]))
    result = (statistics.median(times[0]), statistics.median(times[1]), ratio)
    if len(steps_fns) == 3:
        result += (statistics.median(times[2]), statistics.median(n / m for n, m in zip(times[2], times[0])))
    return result


def _alternate(steps_fns, budget, start=0, time_block=_time_block):
    """Seconds per call of each ``step(i)``, in blocks of ~20 ms taken in turn, after two warm-up calls.

    ``time_block(step, steps, start)`` runs and times one block (:func:`_time_block`, unless
    the caller measures more than the time).
    """
    for i in range(start, start + 2):  # warm-up: optimizer state, allocator, caches
        for step in steps_fns:
            step(i)
    once = max(max(_time_block(step, 1, start + 2) for step in steps_fns), 1e-6)
    steps = max(1, int(0.02 / once))
    blocks = max(5, min(60, int(budget / (len(steps_fns) * steps * once))))
    times = [[] for _ in steps_fns]
    i = start + 3
    for _ in range(blocks):
        for k, step in enumerate(steps_fns):
            times[k].append(time_block(step, steps, i))
        i += steps
    return times


PHASES = ("zero_grad", "forward + loss", "backward", "optimizer step")


def phase_times(workload, batch, budget):
    """Seconds per step of each phase (:data:`PHASES`): [(minigrad, torch)], one pair per phase.

    Blocks of ~20 ms of steps alternate between the frameworks as in :func:`compare`
    (:func:`_alternate`); a phase's time is the median over blocks of its mean per step in the block.
    """
    mg_step, tt_step, *_ = _step_fns(workload, batch)
    samples = {mg_step: [], tt_step: []}

    def phase_block(step, steps, start):
        acc = [0.0] * len(PHASES)
        for i in range(start, start + steps):
            step.phases(i, acc)
        samples[step].append([a / steps for a in acc])
        return sum(acc) / steps

    _alternate([mg_step, tt_step], budget, start=1, time_block=phase_block)
    return [(statistics.median(b[p] for b in samples[mg_step]), statistics.median(b[p] for b in samples[tt_step]))
            for p in range(len(PHASES))]


def _graph_nodes(loss):
    """Backward nodes of one step's graph, leaf accumulators (torch's AccumulateGrad) left out."""
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen or type(node).__name__ == "AccumulateGrad":
            continue
        seen.add(node)
        for nxt in node.next_functions:
            nxt = nxt[0] if isinstance(nxt, tuple) else nxt   # torch: (node, input number)
            if hasattr(nxt, "next_functions"):
                stack.append(nxt)
    return len(seen)


def _recorded_products(step):
    """The (a, b) operands of every ``np.matmul`` one call of ``step(1)`` makes, forward and backward.

    minigrad's ops reach BLAS through ``np.matmul`` (Linear, matmul, attention, the GRU cell,
    convolution's im2col product), looked up on the module at each call, so wrapping it for
    one step sees every product with its operands' real shapes and memory layouts.
    """
    products, matmul = [], np.matmul

    def recording(a, b, *args, **kwargs):
        products.append((a, b))
        return matmul(a, b, *args, **kwargs)

    np.matmul = recording
    try:
        step(1)
    finally:
        np.matmul = matmul
    return products


def step_anatomy(workload, batch, budget, mg, tt):
    """Where a row's time goes: its matrix products, and the rest over the autograd nodes.

    The products minigrad's step makes are replayed alone, NumPy's BLAS against torch's
    (``torch.matmul`` on the same arrays), alternating blocks. ``mg - numpy + torch`` is the
    step with torch's product times: when its ratio meets the target, the gap is the BLAS
    libraries'. What is left, the step minus its products, is spread over the graph's backward
    nodes; per node it is the framework's cost of an op (Python, dispatch, bookkeeping) plus
    its non-BLAS array work. (torch's rest is its step minus the same products on its BLAS;
    convolution in torch is not a matrix product, so for LeNet its rest is an estimate.)
    Returns a dict of the measured parts.
    """
    import torch

    mg_step, tt_step, *_ = _step_fns(workload, batch)
    mg_step(0)
    products = _recorded_products(mg_step)
    torch_products = [(torch.from_numpy(np.ascontiguousarray(a) if min(a.strides) < 0 else a),
                       torch.from_numpy(np.ascontiguousarray(b) if min(b.strides) < 0 else b))
                      for a, b in products]

    def numpy_products(i):
        for a, b in products:
            np.matmul(a, b)

    def torch_products_(i):
        with torch.no_grad():
            for a, b in torch_products:
                torch.matmul(a, b)

    times = _alternate([numpy_products, torch_products_], budget)
    np_mm, tt_mm = statistics.median(times[0]), statistics.median(times[1])
    return {"products": len(products), "np_mm": np_mm, "tt_mm": tt_mm,
            "mm_ratio": statistics.median(n / t for n, t in zip(*times)),
            "mg_nodes": _graph_nodes(mg_step(2)), "tt_nodes": _graph_nodes(tt_step(2)),
            "mg_rest": mg - np_mm, "tt_rest": tt - tt_mm, "if_torch_blas": (mg - np_mm + tt_mm) / tt}


def layer_times(workload, batch, budget):
    """Each layer of a ``Sequential`` model alone, forward + backward on the step's own activations.

    Returns [(layer name, minigrad seconds, torch seconds)]; every layer's input but the
    first requires a gradient, as in the step.
    """
    import minigrad
    import torch

    mg_step, tt_step, *_ = _step_fns(workload, batch)
    rows = []
    mg_x, tt_x = mg_step.batch[0], tt_step.batch[0]
    for k, (mg_layer, tt_layer) in enumerate(zip(mg_step.model, tt_step.model)):
        mg_in, tt_in = mg_x.detach().requires_grad_(k > 0), tt_x.detach().requires_grad_(k > 0)
        with minigrad.no_grad(), torch.no_grad():
            mg_x, tt_x = mg_layer(mg_in), tt_layer(tt_in)
        # Output gradients in the output's own memory layout, as an upstream layer's backward
        # gives them (convolution's outputs are channels-last views; np.ones_like and
        # torch.ones_like keep the layout, minigrad.ones_like is C-contiguous).
        mg_g, tt_g = minigrad.from_numpy(np.ones_like(mg_x.numpy())), torch.ones_like(tt_x)

        def mg_call(i, layer=mg_layer, x=mg_in, g=mg_g):
            layer(x).backward(g)

        def tt_call(i, layer=tt_layer, x=tt_in, g=tt_g):
            layer(x).backward(g)

        times = _alternate([mg_call, tt_call], budget)
        rows.append((type(mg_layer).__name__, statistics.median(times[0]), statistics.median(times[1])))
    return rows


def anatomy_lines(a, mg, tt, target):
    """The measured reason for a row's distance to its target, and what would close it."""
    rest_needed = target * tt - a["np_mm"]   # minigrad's rest that meets the target, products as they are
    return [
        f"  its {a['products']} matrix products alone, NumPy's BLAS vs torch's on the same arrays: "
        f"{a['np_mm'] * 1e3:.3f} vs {a['tt_mm'] * 1e3:.3f} ms (ratio {a['mm_ratio']:.2f}), "
        f"{a['np_mm'] / mg:.0%} of minigrad's step; with torch's product times the row's ratio would be "
        f"{a['if_torch_blas']:.2f}",
        f"  the rest of the step: minigrad {a['mg_rest'] * 1e3:.3f} ms over {a['mg_nodes']} backward nodes "
        f"({a['mg_rest'] / a['mg_nodes'] * 1e6:.0f} µs each), torch {a['tt_rest'] * 1e3:.3f} ms over "
        f"{a['tt_nodes']} ({a['tt_rest'] / a['tt_nodes'] * 1e6:.0f} µs each); the target needs it at "
        + (f"≤ {rest_needed * 1e3:.3f} ms ({rest_needed / a['mg_nodes'] * 1e6:.0f} µs per node) "
           f"with NumPy's products as they are" if rest_needed > 0 else
           "below zero: NumPy's products alone exceed it"),
    ]


# ---------------------------------------------------------------------------
# Import time and peak memory (fresh interpreters)
# ---------------------------------------------------------------------------


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss_bytes():
    # VmHWM, the peak RSS of this address space. (ru_maxrss is not used: after exec it
    # starts from the parent's peak, which for this benchmark is a process holding torch.)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _memory_child(framework, workload, steps, threads):
    """Run in a fresh interpreter: print the peak RSS growth (bytes) of a workload's training."""
    if framework == "minigrad":
        import minigrad as fw
        import minigrad.nn as nn
        import minigrad.nn.functional as F
        import minigrad.optim as optim

        fw.kernels.set_num_threads(threads)
    else:
        import torch as fw
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim

        fw.set_num_threads(threads)
    rng = np.random.default_rng(0)
    if workload == "skipgram":
        data = [tuple(fw.from_numpy(a) for a in b) for b in _skipgram_data(rng, 1024)]
    else:
        data = [tuple(fw.from_numpy(a) for a in b) for b in _sequence_data(rng, 32, time_major=False)]
    try:
        # Reset the peak-RSS mark (Linux >= 4.0), so a transient peak during the import
        # does not hide the workload's own peak.
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    base = _rss_bytes()
    if _peak_rss_bytes() > base + (1 << 20):
        # The peak could not be reset and the import peaked above where it settled:
        # the workload's peak would be hidden. Say so instead of a wrong number.
        print("nan")
        return
    if workload == "skipgram":
        model = _skipgram_model(nn, F, fw.cat, fw.zeros_like)
        opt = optim.SparseAdam(list(model.parameters()), lr=1e-3)
    else:
        fw.manual_seed(0)
        model = _gpt_model(nn, F, fw.arange)
        opt = optim.Adam(model.parameters())
    for i in range(steps):
        opt.zero_grad()
        batch = data[i % N_BATCHES]
        if workload == "skipgram":
            loss = model(*batch)
        else:
            loss = F.cross_entropy(model(batch[0]), batch[1])
        loss.backward()
        opt.step()
    print(_peak_rss_bytes() - base)


def peak_memory(framework, workload, steps, threads):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--_memory", framework,
                          "--_memory_workload", workload, "--steps", str(steps), "--threads", str(threads)],
                         capture_output=True, text=True, env=_child_env(), check=True)
    return float(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

WORKLOADS = [
    ("bag", 256, "EmbeddingBag(mean) classifier, Adam", "small"),
    ("bag", 4096, "EmbeddingBag(mean) classifier, Adam", "large"),
    ("mlp", 64, "MLP 784-256-10, SGD momentum", "small"),
    ("mlp", 1024, "MLP 784-256-10, SGD momentum", "large"),
    ("skipgram", 1024, "skip-gram, sparse Embedding + SparseAdam", "small"),
    ("gru", 32, "(d) 2-layer GRU LM, H=128, seq 64, Adam", "gru"),
    ("gpt", 32, "(e) 2-block GPT, d=128, 4 heads, ctx 64, Adam", "gpt"),
    ("lenet", 64, "LeNet CNN 1x28x28, SGD momentum", "conv"),
    ("makemore", 32, "makemore MLP 27x10 ctx 3, H=200, tanh, SGD", "tiny"),
    ("attn", 32, "1 causal attention block from primitives, d=64", "tiny"),
]
TARGET = {"small": 0.7, "large": 0.8, "gru": 1.0, "gpt": 0.8, "conv": 1.0, "tiny": 1.0}
NUMPY_TARGET = 3.0  # the plain-NumPy LeNet must be at least this many times slower than minigrad


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for both frameworks (torch, minigrad kernels, BLAS)")
    parser.add_argument("--only", choices=list(dict.fromkeys(w[0] for w in WORKLOADS)),
                        help="one workload only (every batch size of it)")
    parser.add_argument("--_memory", choices=["minigrad", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--_memory_workload", choices=["skipgram", "gpt"], default="skipgram", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._memory:
        _memory_child(args._memory, args._memory_workload, args.steps, args.threads)
        return

    import torch

    import minigrad
    from _which import require_compiled_kernels  # benchmarks/_which.py

    require_compiled_kernels()
    # The models see the same 8 batches again and again and soon predict them confidently:
    # softmax probabilities then fall below float32's normal range, and products with such
    # subnormal operands ran up to 80x slower (the GPT head's 2048x64 @ 64x128 product: 46 ms
    # against 0.57), in NumPy's BLAS and torch's alike, so a row's time depended on how many
    # steps the run had taken. Flush-to-zero is a setting of the calling thread's CPU state,
    # shared by NumPy and torch (and by BLAS, on one thread): both frameworks run with it.
    flushing = torch.set_flush_denormal(True)
    torch.set_num_threads(args.threads)
    minigrad.kernels.set_num_threads(args.threads)
    budget = 1.0 if args.quick else 4.0
    print(f"threads: torch.get_num_threads() = {torch.get_num_threads()}, "
          f"minigrad.kernels.get_num_threads() = {minigrad.kernels.get_num_threads()}, "
          + ", ".join(f"{v}={os.environ.get(v)}" for v in
                      ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")))
    print(f"torch {torch.__version__}, numpy {np.__version__}, minigrad {minigrad.__version__} "
          f"(kernels: {minigrad.kernels.BACKEND}); subnormal floats flushed to zero for both: "
          f"{'yes' if flushing else 'no (this CPU cannot)'}")
    print()
    print(f"{'workload':<44}{'batch':>7}{'minigrad ms':>13}{'torch ms':>11}{'ratio':>8}  target")
    for name, batch, label, size in WORKLOADS:
        if args.only and name != args.only:
            continue
        mg, tt, ratio, *numpy_result = compare(name, batch, budget)
        verdict = "met" if ratio <= TARGET[size] else f"above by {ratio - TARGET[size]:.2f}"
        print(f"{label:<44}{batch:>7}{mg * 1e3:>13.3f}{tt * 1e3:>11.3f}{ratio:>8.2f}"
              f"  ≤{TARGET[size]}: {verdict}", flush=True)
        if ratio > TARGET[size]:
            print("  by phase, minigrad vs torch ms: " + ", ".join(
                f"{phase} {m * 1e3:.3f}/{t * 1e3:.3f}"
                for phase, (m, t) in zip(PHASES, phase_times(name, batch, budget / 4))), flush=True)
            for line in anatomy_lines(step_anatomy(name, batch, budget / 2, mg, tt), mg, tt, TARGET[size]):
                print(line, flush=True)
            if name == "lenet":
                print("  layer by layer, forward + backward alone, minigrad vs torch ms: " + ", ".join(
                    f"{layer} {m * 1e3:.2f}/{t * 1e3:.2f}" for layer, m, t in layer_times(name, batch, budget / 4)),
                    flush=True)
        if numpy_result:
            np_time, np_ratio = numpy_result
            verdict = "met" if np_ratio >= NUMPY_TARGET else f"below by {NUMPY_TARGET - np_ratio:.1f}"
            print(f"  the same LeNet step in plain NumPy (fancy-index im2col, np.add.at col2im): "
                  f"{np_time * 1e3:.3f} ms, numpy / minigrad = {np_ratio:.1f}x  ≥{NUMPY_TARGET:g}x: {verdict}",
                  flush=True)
    print("(target: the ratio this project aims for on the row; 'above by' is the measured distance "
          "to it, a result of the run, not an error)")

    if args.only == "gpt" or not args.only:
        _print_memory("gpt", "2-block GPT", 5 if args.quick else 10, args.threads)
    if args.only:
        return
    repeats = 3 if args.quick else 7
    print()
    from bench_import import import_times  # benchmarks/bench_import.py

    t_mg, t_tt = import_times(repeats)
    print(f"import (fresh interpreter, median of {repeats}): minigrad + nn + optim {t_mg * 1e3:.0f} ms, "
          f"torch {t_tt * 1e3:.0f} ms, torch / minigrad = {t_tt / t_mg:.1f}x (target ≥ 10x)")
    _print_memory("skipgram", "skip-gram", 10 if args.quick else 30, args.threads)


def _print_memory(workload, label, steps, threads):
    m_mg = peak_memory("minigrad", workload, steps, threads)
    m_tt = peak_memory("torch", workload, steps, threads)
    print(f"{label} peak memory above the post-import RSS ({steps} steps, VmHWM, fresh "
          f"interpreters): minigrad {m_mg / 2**20:.0f} MiB, torch {m_tt / 2**20:.0f} MiB, "
          f"ratio {m_mg / m_tt:.2f} (target ≤ 1)", flush=True)


if __name__ == "__main__":
    main()
