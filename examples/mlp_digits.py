"""Linear layers on continuous inputs: an MLP that reads handwritten digits.

The counterpart of the embedding examples: here every input is a *magnitude*
(the ink in one of 64 pixels), so it belongs in a Linear layer, where each
input contributes to every hidden unit in proportion to its value. The model is
``Linear(64, 128) → ReLU → Linear(128, 10)`` trained with cross-entropy and
Adam on minibatches; the script prints the held-out accuracy, compares it with
a linear (softmax-regression) model of the same inputs, and plots the
training curve and a confusion matrix.

Data: scikit-learn's bundled copy of the UCI "Optical Recognition of
Handwritten Digits" test set (``sklearn.datasets.load_digits``): 1,797 images
of 8x8 pixels with values 0-16, loaded offline. A fixed 75/25 split (seeded,
stratified by class) is used.

Run ``python examples/mlp_digits.py`` (about 7 seconds of CPU time) or ``--quick``.
The figure goes to ``examples/output/mlp_digits.png`` (``--out DIR`` for another folder).
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


def load_data(rng: np.random.Generator, test_fraction: float = 0.25):
    """Scaled pixels and labels, split per class so both parts have every digit."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 -> 0..1
    y = digits.target.astype(np.int64)
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:int(round(test_fraction * np.sum(y == c)))]
                           for c in range(10)])
    train = np.setdiff1d(np.arange(len(y)), test)
    return X[train], y[train], X[test], y[test], digits.images[test]


def accuracy(model, X, y) -> float:
    model.eval()
    with mg.no_grad():
        pred = model(mg.from_numpy(X)).argmax(dim=1).numpy()
    model.train()
    return float(np.mean(pred == y))


def train(model, Xtr, ytr, Xte, yte, epochs, rng, desc):
    opt = optim.Adam(model.parameters(), lr=3e-3)
    X, y = mg.from_numpy(Xtr), mg.from_numpy(ytr)
    history = {"loss": [], "test_acc": []}
    bar = _common.progress(total=epochs, desc=desc, unit="epoch")
    for _ in range(epochs):
        total = 0.0
        for rows in _common.batches(len(ytr), 32, rng):
            rows = mg.from_numpy(rows)
            loss = F.cross_entropy(model(X[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        history["loss"].append(total / len(ytr))
        history["test_acc"].append(accuracy(model, Xte, yte))
        bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", test_acc=f"{history['test_acc'][-1]:.3f}")
        bar.update()
    bar.close()
    return history


def confusion(model, X, y) -> np.ndarray:
    with mg.no_grad():
        pred = model(mg.from_numpy(X)).argmax(dim=1).numpy()
    cm = np.zeros((10, 10), dtype=int)
    np.add.at(cm, (y, pred), 1)
    return cm


def plot(hist_mlp, hist_lin, cm, out_dir):
    plt = _common.pyplot()
    fig, (ax_c, ax_m) = plt.subplots(1, 2, figsize=(11, 4.5))
    ep = np.arange(1, len(hist_mlp["test_acc"]) + 1)
    ax_c.plot(ep, hist_mlp["test_acc"], label="MLP Linear(64,128)-ReLU-Linear(128,10)")
    ax_c.plot(ep, hist_lin["test_acc"], label="linear Linear(64,10)")
    ax_c.set_xlabel("epoch")
    ax_c.set_ylabel("held-out accuracy")
    ax_c.set_ylim(0.8, 1.0)
    ax_c.grid(alpha=0.3)
    ax_c.legend()
    ax_c.set_title("accuracy on the 25% held-out digits")
    ax_m.imshow(cm, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax_m.text(j, i, cm[i, j], ha="center", va="center", fontsize=8,
                          color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax_m.set_xticks(range(10))
    ax_m.set_yticks(range(10))
    ax_m.set_xlabel("predicted")
    ax_m.set_ylabel("true")
    ax_m.set_title("MLP confusion matrix (held out)")
    fig.suptitle("scikit-learn digits (8x8): Linear layers on pixel intensities")
    fig.tight_layout()
    return _common.save_figure(fig, "mlp_digits.png", out_dir)


def main(argv=None) -> dict:
    """Train the MLP and the linear model; print and return held-out accuracies."""
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None)
    args = _common.parse_args(p, argv)
    rng = _common.setup(args.seed)
    epochs = args.epochs or (5 if args.quick else 40)
    Xtr, ytr, Xte, yte, _ = load_data(rng)
    print(f"digits: {len(ytr)} train / {len(yte)} held-out 8x8 images, 10 classes; {epochs} epochs")

    mlp = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    hist_mlp = train(mlp, Xtr, ytr, Xte, yte, epochs, rng, "MLP")
    linear = nn.Linear(64, 10)
    hist_lin = train(linear, Xtr, ytr, Xte, yte, epochs, rng, "linear")

    acc_mlp, acc_lin = hist_mlp["test_acc"][-1], hist_lin["test_acc"][-1]
    cm = confusion(mlp, Xte, yte)
    off = cm - np.diag(np.diag(cm))
    i, j = np.unravel_index(np.argmax(off), off.shape)
    print(f"held-out accuracy: MLP {acc_mlp:.2%} ({int(np.trace(cm))}/{len(yte)}), "
          f"linear softmax regression {acc_lin:.2%}; chance 10%")
    print(f"train accuracy: MLP {accuracy(mlp, Xtr, ytr):.2%}; most frequent confusion: "
          f"true {i} predicted as {j} ({off[i, j]} times)")
    path = None if args.no_plot else plot(hist_mlp, hist_lin, cm, args.out)
    return {"test_accuracy": acc_mlp, "linear_test_accuracy": acc_lin, "confusion": cm, "figure": path}


if __name__ == "__main__":
    main()
