"""From bigram to Transformer: six character-level models of first names, side by side.

The progression of Karpathy's *makemore* on the 1990 US Census first names that
``names_char_lm.py`` uses (same names, same 10% held out, same alphabet, '.'
marking start and end). Every model starts with an ``nn.Embedding`` of the 27
characters; what changes is how much of the past it can see:

* **bigram**: ``Embedding(27, 27)`` *is* the table of next-character logits (one letter of context);
* **MLP**: three letters of context, embeddings concatenated, one tanh layer (Bengio et al. 2003);
* **RNN**, **GRU**, **LSTM**: ``Embedding(27, 16)`` → one recurrent layer of 64 units → ``Linear(64, 27)``,
  the whole prefix summarised in the hidden state;
* **Transformer**: token + position embeddings (d = 32), two pre-norm ``TransformerEncoderLayer``
  blocks (4 heads, causal mask), ``Linear(32, 27)``: every earlier letter directly visible.

Each is trained with Adam (learning rate 3e-3, 0.1 for the bigram's bare table of
logits), cosine-annealed, on the same names in the same order and judged on the
held-out names, in nats per character (end-of-name included). Printed: one table
(held-out loss, parameters, training CPU time, how much closer vowels sit to each
other than to consonants in the learned embedding), and sampled names from each.
The figure (``examples/output/char_models.png``; ``--out DIR`` for another folder) has the held-out loss per epoch
and every model's character embedding projected to 2-D (PCA).

Run ``python examples/char_models.py`` (about two minutes) or ``--quick``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
import names_char_lm as base  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402

V = len(base.ALPHABET)
MAX_LEN = 20  # longest name in the lists is 11 letters; sampling stops here


# -- models: each maps (B, T) character indices to (B, T, V) next-character logits ---------
class Bigram(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(V, V)
        nn.init.zeros_(self.emb.weight)  # start from the uniform guess, as makemore's bigram

    def forward(self, idx):
        return self.emb(idx)


class ContextMLP(nn.Module):
    """The MLP of names_char_lm.py, applied at every position to the three letters before it."""

    def __init__(self):
        super().__init__()
        self.mlp = base.CharMLP()
        self.emb = self.mlp.emb

    def forward(self, idx):
        b, t = idx.shape
        padded = mg.cat([mg.zeros((b, base.CONTEXT - 1), dtype=idx.dtype), idx], 1)
        windows = mg.stack([padded[:, k:k + t] for k in range(base.CONTEXT)], -1)  # (B, T, 3)
        return self.mlp(windows.reshape(b * t, base.CONTEXT)).reshape(b, t, V)


class Recurrent(nn.Module):
    def __init__(self, kind: str, emb: int = 16, hidden: int = 64):
        super().__init__()
        self.emb = nn.Embedding(V, emb)
        self.rnn = getattr(nn, kind)(emb, hidden, batch_first=True)
        self.out = nn.Linear(hidden, V)

    def forward(self, idx):
        return self.out(self.rnn(self.emb(idx))[0])


class CausalTransformer(nn.Module):
    def __init__(self, d: int = 32, heads: int = 4, layers: int = 2):
        super().__init__()
        self.emb = nn.Embedding(V, d)
        self.pos = nn.Embedding(MAX_LEN + 1, d)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, V)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.emb(idx) + self.pos(mg.arange(t))
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        return self.out(self.norm(self.encoder(x, mask=mask, is_causal=True)))


MODELS = {
    "bigram": Bigram,
    "MLP": ContextMLP,
    "RNN": lambda: Recurrent("RNN"),
    "GRU": lambda: Recurrent("GRU"),
    "LSTM": lambda: Recurrent("LSTM"),
    "Transformer": CausalTransformer,
}


# -- data: input '.name', target 'name.', padded with ignored targets -------------------------
def encode(words):
    """(inputs, targets) int64 arrays (n, longest + 1); targets past the end are -100 (ignored)."""
    longest = max(len(w) for w in words) + 1
    x = np.zeros((len(words), longest), dtype=np.int64)
    y = np.full((len(words), longest), -100, dtype=np.int64)
    for i, w in enumerate(words):
        ids = [base.STOI[c] for c in w]
        x[i, 1:len(ids) + 1] = ids
        y[i, :len(ids) + 1] = ids + [0]
    return x, y


def batch_arrays(x, y, rows):
    t = int((y[rows] != -100).sum(1).max())  # trim the batch to its longest name
    return mg.from_numpy(x[rows, :t]), mg.from_numpy(y[rows, :t])


def held_out_loss(model, x, y, batch: int = 512) -> float:
    total, count = 0.0, 0
    model.eval()
    with mg.no_grad():
        for s in range(0, len(x), batch):
            xb, yb = batch_arrays(x, y, np.arange(s, min(s + batch, len(x))))
            logits = model(xb)
            total += F.cross_entropy(logits.reshape(-1, V), yb.reshape(-1), reduction="sum").item()
            count += int((yb != -100).sum())
    model.train()
    return total / count


def sample(model, n: int, rng) -> list[str]:
    out = []
    model.eval()
    with mg.no_grad():
        for _ in range(n):
            idx = [0]
            while len(idx) <= MAX_LEN:
                logits = model(mg.tensor([idx]))[0, -1].numpy().astype(np.float64)
                p = np.exp(logits - logits.max())
                k = int(rng.choice(V, p=p / p.sum()))
                if k == 0:
                    break
                idx.append(k)
            out.append("".join(base.ALPHABET[i] for i in idx[1:]))
    model.train()
    return out


def train(name, model, xtr, ytr, xte, yte, epochs, rng):
    # The bigram is a bare table of logits that must move by several units: a larger step size.
    opt = optim.Adam(model.parameters(), lr=0.1 if name == "bigram" else 3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    curve, seconds = [], 0.0
    steps = -(-len(xtr) // 64)
    bar = _common.progress(total=epochs * steps, desc=name, unit="step")
    for _ in range(epochs):
        for rows in _common.batches(len(xtr), 64, rng):
            xb, yb = batch_arrays(xtr, ytr, rows)
            start = time.process_time()
            loss = F.cross_entropy(model(xb).reshape(-1, V), yb.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            seconds += time.process_time() - start
            bar.update()
        sched.step()
        curve.append(held_out_loss(model, xte, yte))
        bar.set_postfix(held_out=f"{curve[-1]:.3f}")
    bar.close()
    return curve, seconds


def plot(results, out_dir):
    plt = _common.pyplot()
    fig = plt.figure(figsize=(14, 6.5))
    ax = fig.add_subplot(1, 3, 1)
    for name, r in results.items():
        ax.plot(np.arange(1, len(r["curve"]) + 1), r["curve"], "o-", ms=3, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("held-out cross-entropy (nats / char)")
    ax.set_title("held-out loss")
    ax.legend()
    for k, (name, r) in enumerate(results.items()):
        a = fig.add_subplot(3, 3, 3 * (k // 2) + 2 + k % 2)
        w = r["embedding"] - r["embedding"].mean(0)
        xy = w @ np.linalg.svd(w, full_matrices=False)[2][:2].T
        for i, ch in enumerate(base.ALPHABET):
            colour = "tab:red" if ch in "aeiouy" else ("gray" if ch == "." else "tab:blue")
            a.annotate(ch, xy[i], fontsize=9, color=colour, ha="center", va="center")
        pad = 0.1 * (np.ptp(xy, 0) + 1e-9)
        a.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0])
        a.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
        a.set_xticks([])
        a.set_yticks([])
        a.set_title(f"{name} embedding (PCA)", fontsize=9)
    fig.suptitle("character models of US Census first names (red: vowels and y)")
    fig.tight_layout()
    return _common.save_figure(fig, "char_models.png", out_dir)


def main(argv=None) -> dict:
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None)
    args = _common.parse_args(p, argv)
    rng = _common.setup(args.seed)
    epochs = args.epochs or (1 if args.quick else 12)

    words = base.load_names()
    order = rng.permutation(len(words))
    n_test = len(words) // 10
    test_words = [words[i] for i in order[:n_test]]
    train_words = [words[i] for i in order[n_test:]]
    if args.quick:
        train_words = train_words[:1000]
    xtr, ytr = encode(train_words)
    xte, yte = encode(test_words)
    print(f"{len(words)} names: {len(train_words)} train, {len(test_words)} held out "
          f"(the split of names_char_lm.py); {epochs} epochs of Adam per model")

    results = {}
    for name, build in MODELS.items():
        mg.manual_seed(args.seed)
        model = build()
        curve, seconds = train(name, model, xtr, ytr, xte, yte, epochs, np.random.default_rng(args.seed))
        emb = model.emb.weight.detach().numpy().astype(np.float64)
        vv, vc = base.vowel_similarity(emb)
        results[name] = {"curve": curve, "test_loss": curve[-1], "seconds": seconds, "embedding": emb,
                         "params": sum(q.numel() for q in model.parameters()),
                         "vowel_gap": vv - vc, "samples": sample(model, 8, rng)}

    print(f"\n{'model':<12} {'held-out loss':>13} {'params':>8} {'CPU time':>11} {'vowel gap':>10}")
    for name, r in results.items():
        print(f"{name:<12} {r['test_loss']:>13.3f} {r['params']:>8,} {r['seconds']:>10.1f}s {r['vowel_gap']:>+10.2f}")
    print("(vowel gap: mean cosine similarity vowel-vowel minus vowel-consonant in the embedding)")
    train_set = set(train_words)
    for name, r in results.items():
        print(f"{name:<12} " + ", ".join(s + ("" if s in train_set else "*") for s in r["samples"]))
    print("(* = not a name of the training list)")
    path = None if args.no_plot else plot(results, args.out)
    return {"results": results, "figure": path}


if __name__ == "__main__":
    main()
