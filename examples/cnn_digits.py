"""Convolution's inductive bias, measured: an MLP and a CNN with the same budget, on real and shuffled pixels.

An Embedding shares nothing between categories, a Linear layer shares nothing
between positions, and a convolution shares one small kernel across every
position of an image. Does that sharing help, and is it really about the
*neighbourhoods* of pixels? Four runs answer it, each with about 6,100
parameters:

* ``MLP``:  ``Linear(64, 81) → ReLU → Linear(81, 10)`` on the 8x8 pixels;
* ``CNN``:  ``Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2) → Conv2d(16, 32, 3, padding=1)
  → ReLU → MaxPool2d(2) → Linear(128, 10)``;
* the same two on images whose 64 pixels were shuffled by one fixed random
  permutation (train and test alike). Shuffling loses no information - it is a
  relabelling of the inputs - so an MLP, which treats every pixel as its own
  feature, does as well either way; a CNN's kernels see 3x3 neighbourhoods that
  no longer exist.

All four train with cross-entropy and Adam (lr 3e-3, minibatches of 32) on the
same split as ``mlp_digits.py``; the held-out accuracy is averaged over seeds
(each seed draws new initial weights and minibatch orders; the split and the
permutation stay fixed). The figure shows the accuracies and the 16 learned
first-layer kernels of the CNN.

Data: scikit-learn's bundled digits (1,797 images of 8x8 pixels, values 0-16),
loaded offline; 75/25 split, stratified by class.

Run ``python examples/cnn_digits.py`` (about 30 seconds) or ``--quick``.
The figure goes to ``examples/output/cnn_digits.png`` (or the ``--out`` folder).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402
from mlp_digits import accuracy, load_data  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402

HIDDEN = 81  # the MLP's width that gives it the CNN's parameter count


class Images(nn.Module):
    """Reshape flat 64-pixel rows to (N, 1, 8, 8) images, so every model reads the same data."""

    def forward(self, x):
        return x.reshape(-1, 1, 8, 8)


def make_mlp():
    return nn.Sequential(nn.Linear(64, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 10))


def make_cnn():
    return nn.Sequential(
        Images(),
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 10),
    )


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def train(model, Xtr, ytr, epochs, rng, desc):
    opt = optim.Adam(model.parameters(), lr=3e-3)
    X, y = mg.from_numpy(Xtr), mg.from_numpy(ytr)
    for _ in _common.progress(range(epochs), desc=desc, unit="epoch", leave=False):
        for rows in _common.batches(len(ytr), 32, rng):
            rows = mg.from_numpy(rows)
            loss = F.cross_entropy(model(X[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


VARIANTS = [("MLP", make_mlp, False), ("MLP, shuffled pixels", make_mlp, True),
            ("CNN", make_cnn, False), ("CNN, shuffled pixels", make_cnn, True)]


def plot(results, filters, out_dir):
    plt = _common.pyplot()
    fig = plt.figure(figsize=(11, 4.2))
    ax = fig.add_axes([0.06, 0.14, 0.42, 0.72])
    names = list(results)
    means = [np.mean(results[n]) for n in names]
    stds = [np.std(results[n]) for n in names]
    colors = ["tab:blue", "lightsteelblue", "tab:orange", "navajowhite"]
    ax.bar(range(len(names)), means, yerr=stds, color=colors, capsize=4)
    for k, n in enumerate(names):
        ax.text(k, means[k] + stds[k] + 0.003, f"{means[k]:.1%}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([n.replace(", ", "\n") for n in names])
    ax.set_ylim(min(means) - 0.06, 1.0)
    ax.set_ylabel("held-out accuracy (mean ± sd over seeds)")
    ax.set_title("same parameter budget, real vs shuffled pixels")
    ax.grid(axis="y", alpha=0.3)
    scale = np.abs(filters).max()
    for k in range(16):
        sub = fig.add_axes([0.56 + (k % 4) * 0.1, 0.64 - (k // 4) * 0.22, 0.085, 0.2])
        sub.imshow(filters[k, 0], cmap="RdBu_r", vmin=-scale, vmax=scale)
        sub.set_xticks([])
        sub.set_yticks([])
    fig.text(0.76, 0.9, "the CNN's 16 learned 3x3 kernels (first layer, seed 0)", ha="center")
    return _common.save_figure(fig, "cnn_digits.png", out_dir)


def main(argv=None) -> dict:
    """Train the four variants over seeds; print and return the held-out accuracy table."""
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None, help="training seeds per variant")
    args = _common.parse_args(p, argv)
    rng = _common.setup(args.seed)
    epochs = args.epochs or (4 if args.quick else 20)
    n_seeds = args.seeds or (2 if args.quick else 3)
    Xtr, ytr, Xte, yte, _ = load_data(rng)
    permutation = rng.permutation(64)
    data = {False: (Xtr, Xte), True: (Xtr[:, permutation], Xte[:, permutation])}
    print(f"digits: {len(ytr)} train / {len(yte)} held-out 8x8 images; {epochs} epochs; "
          f"{n_seeds} seeds per variant")

    results, params, filters = {}, {}, None
    for name, make, shuffled in VARIANTS:
        train_x, test_x = data[shuffled]
        accs = []
        for seed in range(n_seeds):
            run_rng = _common.setup(args.seed + 1000 * (seed + 1))
            model = train(make(), train_x, ytr, epochs, run_rng, f"{name}, seed {seed}")
            accs.append(accuracy(model, test_x, yte))
            if name == "CNN" and seed == 0:
                filters = model[1].weight.detach().numpy().copy()
        results[name], params[name] = accs, n_params(model)

    print(f"{'model':<24}{'params':>8}  held-out accuracy over {n_seeds} seeds (mean ± sd)")
    for name in results:
        accs = np.array(results[name])
        print(f"{name:<24}{params[name]:>8}  {accs.mean():.2%} ± {accs.std():.2%}")
    gain = np.mean(results["CNN"]) - np.mean(results["MLP"])
    loss_cnn = np.mean(results["CNN"]) - np.mean(results["CNN, shuffled pixels"])
    loss_mlp = np.mean(results["MLP"]) - np.mean(results["MLP, shuffled pixels"])
    print(f"the CNN beats the MLP by {gain:+.2%} on real pixels; shuffling costs the CNN "
          f"{loss_cnn:.2%} and the MLP {loss_mlp:+.2%}")
    path = None if args.no_plot else plot(results, filters, args.out)
    return {"accuracy": results, "params": params, "filters": filters, "figure": path}


if __name__ == "__main__":
    main()
