"""A character-level language model of first names: embeddings → MLP (Bengio et al., 2003).

To predict the next letter of a name, the model looks at the previous three
characters. Each character is an index into ``nn.Embedding(27, 10)``; the three
10-d vectors are concatenated and fed to ``Linear(30, 200) → tanh →
Linear(200, 27)``, trained with cross-entropy (Bengio, Ducharme, Vincent and
Jauvin, "A Neural Probabilistic Language Model", JMLR 2003, at letter scale).

The embedding here is the whole point of the architecture: the 27 letters are
categories with no order, so they cannot enter the MLP as numbers; a one-hot
input would work too but the embedding learns a small vector per letter that
the MLP shares across contexts -- and letters that behave alike drift
together: the script prints the mean cosine similarity between two vowels and
between a vowel and a consonant, before and after training.

The held-out loss (nats per character, on names never seen in training) is
compared with three baselines: the uniform guess log 27 = 3.296, letter
frequencies (unigram), and a count-based bigram model (previous letter only,
add-one smoothing). The script samples new names at the end.

Data: the first-name lists of the 1990 US Census (names of 1,219 men and 4,275
women with their frequencies, U.S. Census Bureau, public domain), as shipped in
the PyPI package ``names`` (files ``dist.male.first`` and ``dist.female.first``),
so they load offline. Names appearing in both lists are kept once: 5,163 names.

Run ``python examples/names_char_lm.py`` (about 15 seconds of CPU time) or ``--quick``.
The figure goes to ``examples/output/names_char_lm.png`` (``--out DIR`` for another folder).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402

#: Index 0 ('.') marks both "before the start" (context padding) and "end of name".
ALPHABET = "." + "abcdefghijklmnopqrstuvwxyz"
STOI = {c: i for i, c in enumerate(ALPHABET)}
CONTEXT = 3


def load_names() -> list[str]:
    """Lower-case first names from the 1990 US Census lists in the ``names`` package."""
    import names

    out = set()
    for key in ("first:male", "first:female"):
        with open(names.FILES[key], encoding="ascii") as f:
            for line in f:
                word = line.split()[0].lower()
                if word.isalpha():
                    out.add(word)
    return sorted(out)


def make_examples(words) -> tuple[np.ndarray, np.ndarray]:
    """(context, next character) pairs: X (n, 3) int64, y (n,) int64."""
    xs, ys = [], []
    for w in words:
        ctx = [0] * CONTEXT
        for ch in w + ".":
            xs.append(ctx)
            ys.append(STOI[ch])
            ctx = ctx[1:] + [STOI[ch]]
    return np.array(xs, dtype=np.int64), np.array(ys, dtype=np.int64)


class CharMLP(nn.Module):
    """Embedding(27, emb) for each of the 3 context characters → concat → tanh MLP → 27 logits."""

    def __init__(self, emb_dim: int = 10, hidden: int = 200):
        super().__init__()
        self.emb = nn.Embedding(len(ALPHABET), emb_dim)
        self.hidden = nn.Linear(CONTEXT * emb_dim, hidden)
        self.out = nn.Linear(hidden, len(ALPHABET))

    def forward(self, ctx):
        e = self.emb(ctx)                          # (B, 3, emb)
        h = mg.tanh(self.hidden(e.reshape(e.shape[0], -1)))
        return self.out(h)                         # (B, 27) logits


def mean_loss(model, X, y, batch: int = 4096) -> float:
    """Cross-entropy in nats per character over a whole split."""
    total = 0.0
    with mg.no_grad():
        for s in range(0, len(y), batch):
            logits = model(mg.from_numpy(X[s:s + batch]))
            total += F.cross_entropy(logits, mg.from_numpy(y[s:s + batch]), reduction="sum").item()
    return total / len(y)


def count_baselines(Xtr, ytr, Xte, yte) -> dict:
    """Held-out loss of the unigram and the add-one-smoothed bigram count models."""
    V = len(ALPHABET)
    uni = np.bincount(ytr, minlength=V) + 1.0
    uni /= uni.sum()
    big = np.ones((V, V))
    np.add.at(big, (Xtr[:, -1], ytr), 1.0)
    big /= big.sum(1, keepdims=True)
    return {"uniform": float(np.log(V)),
            "unigram": float(-np.log(uni[yte]).mean()),
            "bigram": float(-np.log(big[Xte[:, -1], yte]).mean())}


def sample(model, n: int, rng: np.random.Generator, max_len: int = 20) -> list[str]:
    """Draw names letter by letter from the model's softmax."""
    out = []
    with mg.no_grad():
        for _ in range(n):
            ctx, chars = [0] * CONTEXT, []
            for _ in range(max_len):
                p = F.softmax(model(mg.tensor([ctx])), dim=1).numpy()[0].astype(np.float64)
                k = int(rng.choice(len(p), p=p / p.sum()))
                if k == 0:
                    break
                chars.append(ALPHABET[k])
                ctx = ctx[1:] + [k]
            out.append("".join(chars))
    return out


def vowel_similarity(w: np.ndarray) -> tuple[float, float]:
    """Mean cosine similarity of vowel-vowel pairs and of vowel-consonant pairs of rows of ``w``."""
    u = w / np.linalg.norm(w, axis=1, keepdims=True)
    sim = u @ u.T
    vowels = [STOI[c] for c in "aeiou"]
    consonants = [STOI[c] for c in ALPHABET[1:] if c not in "aeiou"]
    vv = np.mean([sim[a, b] for a in vowels for b in vowels if a != b])
    vc = np.mean([sim[a, b] for a in vowels for b in consonants])
    return float(vv), float(vc)


def plot(model, history, out_dir):
    plt = _common.pyplot()
    fig, (ax_l, ax_e) = plt.subplots(1, 2, figsize=(13, 5.5))
    ep = np.arange(1, len(history["train"]) + 1)
    ax_l.plot(ep, history["train"], label="train")
    ax_l.plot(ep, history["test"], label="held-out names")
    for name, v, style in (("uniform log 27", history["baselines"]["uniform"], ":"),
                           ("bigram counts", history["baselines"]["bigram"], "--")):
        ax_l.axhline(v, color="gray", ls=style, lw=1)
        ax_l.text(ep[-1], v, name, ha="right", va="bottom", fontsize=8, color="gray")
    ax_l.set_xlabel("epoch")
    ax_l.set_ylabel("cross-entropy (nats / character)")
    ax_l.set_title("loss")
    ax_l.legend()

    # What the text claims, shown directly: cosine similarities of the letter vectors, vowels
    # first, so that the vowel block (top left) can be compared with the vowel-consonant block.
    w = model.emb.weight.detach().numpy()
    order = [STOI[c] for c in "aeiou"] + [STOI[c] for c in ALPHABET[1:] if c not in "aeiou"]
    u = w[order] / np.linalg.norm(w[order], axis=1, keepdims=True)
    sim = u @ u.T
    np.fill_diagonal(sim, np.nan)  # a letter with itself (1) says nothing; blank
    im = ax_e.imshow(sim, cmap="RdBu_r", vmin=-1, vmax=1)
    ticks = [ALPHABET[i] for i in order]
    ax_e.set_xticks(range(len(ticks)), ticks, fontsize=8)
    ax_e.set_yticks(range(len(ticks)), ticks, fontsize=8)
    ax_e.add_patch(plt.Rectangle((-0.5, -0.5), 5, 5, fill=False, edgecolor="black", lw=1.5))
    vv, vc = vowel_similarity(w)
    ax_e.set_title(f"cosine similarity of the learned letter vectors, vowels first\n"
                   f"mean vowel-vowel {vv:+.2f} (boxed), vowel-consonant {vc:+.2f}", fontsize=10)
    fig.colorbar(im, ax=ax_e, shrink=0.8)
    fig.suptitle("character-level MLP language model on US Census first names")
    fig.tight_layout()
    return _common.save_figure(fig, "names_char_lm.png", out_dir)


def main(argv=None) -> dict:
    """Train the model; print held-out loss vs baselines and samples; return the numbers."""
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None)
    args = _common.parse_args(p, argv)
    rng = _common.setup(args.seed)
    epochs = args.epochs or (3 if args.quick else 30)
    batch_size = 128

    words = load_names()
    order = rng.permutation(len(words))
    n_test = len(words) // 10
    test_words = [words[i] for i in order[:n_test]]
    train_words = [words[i] for i in order[n_test:]]
    Xtr, ytr = make_examples(train_words)
    Xte, yte = make_examples(test_words)
    base = count_baselines(Xtr, ytr, Xte, yte)
    print(f"{len(words)} names (1990 US Census, package 'names'): {len(train_words)} train, "
          f"{len(test_words)} held out; {len(ytr)} / {len(yte)} (context, next char) examples")

    model = CharMLP()
    sim_before = vowel_similarity(model.emb.weight.detach().numpy())
    opt = optim.Adam(model.parameters(), lr=3e-3)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    history = {"train": [], "test": [], "baselines": base}
    Xtr_t, ytr_t = mg.from_numpy(Xtr), mg.from_numpy(ytr)
    steps = -(-len(ytr) // batch_size)
    bar = _common.progress(total=epochs * steps, desc="char MLP", unit="step")
    for epoch in range(epochs):
        total = 0.0
        for rows in _common.batches(len(ytr), batch_size, rng):
            rows = mg.from_numpy(rows)
            loss = F.cross_entropy(model(Xtr_t[rows]), ytr_t[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
            bar.update()
        sched.step()
        history["train"].append(total / len(ytr))
        history["test"].append(mean_loss(model, Xte, yte))
        bar.set_postfix(epoch=epoch + 1, train=f"{history['train'][-1]:.3f}",
                        held_out=f"{history['test'][-1]:.3f}")
    bar.close()

    test_loss = history["test"][-1]
    train_loss = mean_loss(model, Xtr, ytr)
    print(f"held-out loss {test_loss:.3f} nats/char (train {train_loss:.3f}); baselines on the same "
          f"held-out names: uniform {base['uniform']:.3f}, unigram {base['unigram']:.3f}, "
          f"bigram {base['bigram']:.3f}")
    print(f"perplexity {np.exp(test_loss):.2f} letters (uniform: 27)")
    sim_after = vowel_similarity(model.emb.weight.detach().numpy())
    print(f"letter embeddings, mean cosine similarity vowel-vowel vs vowel-consonant: "
          f"{sim_before[0]:+.2f} vs {sim_before[1]:+.2f} at initialisation, "
          f"{sim_after[0]:+.2f} vs {sim_after[1]:+.2f} after training")
    samples = sample(model, 12, rng)
    train_set = set(train_words)
    print("samples (* = not in the training list): "
          + ", ".join(s + ("" if s in train_set else "*") for s in samples))
    path = None if args.no_plot else plot(model, history, args.out)
    return {"test_loss": test_loss, "train_loss": train_loss, "baselines": base,
            "samples": samples, "vowel_similarity": {"before": sim_before, "after": sim_after},
            "figure": path}


if __name__ == "__main__":
    main()
