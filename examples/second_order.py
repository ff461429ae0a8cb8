"""Second-order derivatives: Newton's method, and the Hessian of an Embedding.

minigrad differentiates its own backward pass (``create_graph=True``), so the
Hessian of a loss is two reverse passes away. This script uses it twice, on
real runs:

1. **Newton's method against gradient descent.** L2-regularised logistic
   regression on the Wisconsin breast-cancer data shipped with scikit-learn
   (569 tumours, 30 standardised features, an intercept; the loss is the mean
   binary cross-entropy plus λ/2·‖w‖², intercept not penalised). Gradient
   descent (``optim.SGD``, full batch, step 1/L with L a bound on the Hessian's
   largest eigenvalue) against Newton's method, whose step solves H s = ∇f with
   H from ``minigrad.autograd.functional.hessian``, and against Newton-CG,
   which never forms H: conjugate gradients on Hessian-vector products
   (``functional.hvp``). Each runs until ‖∇f‖ ≤ 1e-6; the script prints how
   many iterations each needed and checks the optimum against scikit-learn's
   ``LogisticRegression`` fitted to the same objective.
2. **The Hessian of an Embedding + Linear model** on a batch that looks up
   only some rows of the table: a bag of two tokens, ``Embedding(10, 2)``,
   mean over the bag, ``Linear(2, 3)``, cross-entropy. The full Hessian over
   all 29 parameters is computed, its block structure printed and its
   absolute values drawn as an image. The rows and columns of every embedding
   row the batch never looks up are exactly zero, and so is the block between
   two looked-up rows that never share an example.

Why exactly zero: the embedding forward is a gather, ``y = E[idx]``, and
gather's vector-Jacobian product is an index-add, ``Ē[idx[i]] += ȳ[i]``, which
writes only the looked-up rows. Under ``create_graph`` that index-add is
itself a recorded op whose VJP is again a gather at the same indices, so a
derivative of any order reaches E only through the rows in ``idx``: an unseen
row receives no gradient, no Hessian entry, nothing, at every order. An
example's loss depends only on its own rows, hence the zero blocks between
rows that never meet.

Data: ``sklearn.datasets.load_breast_cancer`` (installed with scikit-learn,
nothing downloaded) and seeded random indices.

Run ``python examples/second_order.py`` (a few seconds of CPU time) or add
``--quick``. The figures go to ``examples/output/second_order_newton.png`` and
``examples/output/second_order_hessian.png`` (``--out DIR`` for another folder).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
from minigrad import nn, optim  # noqa: E402
from minigrad.autograd.functional import hessian, hvp  # noqa: E402

TOL = 1e-6  # stop when the gradient's Euclidean norm is at most this


# ----------------------------------------------------------------------------
# 1. Newton's method on logistic regression
# ----------------------------------------------------------------------------
def breast_cancer():
    """Standardised features with a column of ones (the intercept) and 0/1 labels, float64."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    x = (data.data - data.data.mean(0)) / data.data.std(0)
    a = np.hstack([x, np.ones((x.shape[0], 1))])
    return a, data.target.astype(np.float64)


def logistic_loss(a, y, lam: float):
    """f(θ) = mean BCE(Aθ, y) + λ/2 ‖w‖² as a function of θ = (w, intercept)."""
    A, Y = mg.from_numpy(a), mg.from_numpy(y)
    mask = np.ones(a.shape[1])
    mask[-1] = 0.0  # the intercept is not penalised
    M = mg.from_numpy(mask)

    def f(theta):
        return F.binary_cross_entropy_with_logits(A @ theta, Y) + 0.5 * lam * (M * theta * theta).sum()

    return f


def gradient(f, theta: np.ndarray) -> np.ndarray:
    t = mg.tensor(theta, requires_grad=True)
    (g,) = mg.autograd.grad(f(t), t)
    return g.numpy()


def gradient_descent(f, theta0, lr: float, max_iter: int):
    """Full-batch ``optim.SGD``; the gradient norm before each step."""
    theta = nn.Parameter(mg.tensor(theta0.copy()))
    opt = optim.SGD([theta], lr=lr)
    norms = []
    for _ in _common.progress(range(max_iter), desc="gradient descent", leave=False):
        opt.zero_grad()
        f(theta).backward()
        norms.append(float(np.linalg.norm(theta.grad.numpy())))
        if norms[-1] <= TOL:
            break
        opt.step()
    return theta.detach().numpy(), norms


def newton(f, theta0, max_iter: int = 50):
    """θ ← θ − H⁻¹∇f with the Hessian from ``functional.hessian``."""
    theta, norms = theta0.copy(), []
    for _ in range(max_iter):
        g = gradient(f, theta)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] <= TOL:
            break
        H = hessian(f, mg.tensor(theta)).numpy()
        theta = theta - np.linalg.solve(H, g)
    return theta, norms


def newton_cg(f, theta0, max_iter: int = 50):
    """Newton's step from conjugate gradients on H s = ∇f, using only Hessian-vector products."""
    theta, norms, products = theta0.copy(), [], 0
    for _ in range(max_iter):
        g = gradient(f, theta)
        norms.append(float(np.linalg.norm(g)))
        if norms[-1] <= TOL:
            break
        t = mg.tensor(theta)
        s, r = np.zeros_like(g), g.copy()
        p, rr = r.copy(), r @ r
        for _ in range(theta.size):
            hp = hvp(f, t, mg.tensor(p))[1].numpy()
            products += 1
            alpha = rr / (p @ hp)
            s, r = s + alpha * p, r - alpha * hp
            rr, rr_old = r @ r, rr
            if np.sqrt(rr) <= 1e-3 * TOL:
                break
            p = r + rr / rr_old * p
        theta = theta - s
    return theta, norms, products


def sklearn_optimum(a, y, lam: float) -> np.ndarray:
    """scikit-learn's fit of the same objective: C = 1/(Nλ), unpenalised intercept."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1.0 / (a.shape[0] * lam), tol=1e-12, max_iter=100_000)
    clf.fit(a[:, :-1], y)
    return np.concatenate([clf.coef_.ravel(), clf.intercept_])


def newton_vs_gd(lam: float, max_gd: int) -> dict:
    a, y = breast_cancer()
    f = logistic_loss(a, y, lam)
    theta0 = np.zeros(a.shape[1])
    # The loss's Hessian is Aᵀ diag(p(1−p)) A / N + λ (on w), with p(1−p) ≤ 1/4.
    L = np.linalg.eigvalsh(a.T @ a / a.shape[0]).max() / 4 + lam
    theta_gd, gd = gradient_descent(f, theta0, 1.0 / L, max_gd)
    theta_nt, nt = newton(f, theta0)
    theta_cg, cg, products = newton_cg(f, theta0)
    ref = sklearn_optimum(a, y, lam)
    H = hessian(f, mg.tensor(theta_nt)).numpy()
    eig = np.linalg.eigvalsh(H)
    return {
        "n": a.shape[0], "features": a.shape[1] - 1, "lam": lam, "L": L,
        "gd_norms": gd, "newton_norms": nt, "newton_cg_norms": cg, "hvp_products": products,
        "gd_iterations": len(gd) - 1, "newton_iterations": len(nt) - 1, "newton_cg_iterations": len(cg) - 1,
        "gd_converged": gd[-1] <= TOL, "theta": theta_nt,
        "gd_vs_newton": float(np.abs(theta_gd - theta_nt).max()),
        "cg_vs_newton": float(np.abs(theta_cg - theta_nt).max()),
        "sklearn_vs_newton": float(np.abs(ref - theta_nt).max()),
        "condition": float(eig.max() / eig.min()),
        "loss": float(f(mg.tensor(theta_nt)).item()),
    }


# ----------------------------------------------------------------------------
# 2. The Hessian of a small Embedding + Linear model
# ----------------------------------------------------------------------------
def embedding_model_loss(idx, target):
    """loss(E, W, b) = cross_entropy(linear(mean over the bag of E[idx]), target)."""
    I, T = mg.from_numpy(idx), mg.from_numpy(target)

    def loss(E, W, b):
        return F.cross_entropy(F.linear(F.embedding(I, E).mean(dim=1), W, b), T)

    return loss


def embedding_batch(rng, vocab: int, n: int, used: int, classes: int):
    """n bags of two tokens drawn from ``used`` of the ``vocab`` rows, and their classes."""
    rows = np.sort(rng.choice(vocab, size=used, replace=False))
    idx = rng.choice(rows, size=(n, 2))
    return idx.astype(np.int64), rng.integers(0, classes, size=n).astype(np.int64)


def embedding_hessian(rng, vocab: int = 10, dim: int = 2, classes: int = 3, n: int = 5, used: int = 6) -> dict:
    emb, lin = nn.Embedding(vocab, dim).double(), nn.Linear(dim, classes).double()
    idx, target = embedding_batch(rng, vocab, n, used, classes)
    weights = (emb.weight.detach(), lin.weight.detach(), lin.bias.detach())
    blocks = hessian(embedding_model_loss(idx, target), weights)
    sizes = [w.numel() for w in weights]
    # The 3 × 3 grid of blocks, each (inputs[i].shape + inputs[j].shape), as one square matrix.
    H = np.block([[blocks[i][j].numpy().reshape(sizes[i], sizes[j]) for j in range(3)] for i in range(3)])

    seen = np.unique(idx)
    unseen = np.setdiff1d(np.arange(vocab), seen)
    def row(k):  # H's indices of embedding row k
        return np.arange(k * dim, (k + 1) * dim)

    unseen_idx = np.concatenate([row(k) for k in unseen]) if unseen.size else np.zeros(0, int)
    together = {(int(a), int(b)) for bag in idx for a in bag for b in bag}
    apart = [(a, b) for a in seen for b in seen if a < b and (a, b) not in together]
    return {
        "vocab": vocab, "dim": dim, "classes": classes, "idx": idx, "target": target,
        "weights": [w.numpy().copy() for w in weights], "H": H, "sizes": sizes,
        "seen": seen, "unseen": unseen,
        "unseen_max": float(np.abs(H[unseen_idx]).max()) if unseen.size else 0.0,
        "unseen_cols_max": float(np.abs(H[:, unseen_idx]).max()) if unseen.size else 0.0,
        "seen_min": float(min(np.abs(H[row(k)]).max() for k in seen)),
        "apart": apart,
        "apart_max": max((float(np.abs(H[np.ix_(row(a), row(b))]).max()) for a, b in apart), default=0.0),
        "symmetry": float(np.abs(H - H.T).max()),
    }


# ----------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------
def plot_newton(res, out_dir):
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.semilogy(res["gd_norms"], label=f"gradient descent, step 1/L ({res['gd_iterations']:,} iterations)")
    ax.semilogy(res["newton_norms"], "o-", label=f"Newton, functional.hessian ({res['newton_iterations']})")
    ax.semilogy(res["newton_cg_norms"], "s--", label=f"Newton-CG, functional.hvp ({res['newton_cg_iterations']})")
    ax.axhline(TOL, color="k", lw=0.8, ls=":")
    ax.set_xscale("symlog", linthresh=10)  # linear up to 10 (Newton's steps), logarithmic beyond
    ax.set_xlim(0, max(len(res["gd_norms"]), 20))
    ax.set_xlabel("iteration")
    ax.set_ylabel("‖∇f‖")
    ax.set_title(f"L2 logistic regression, breast cancer (n = {res['n']}, λ = {res['lam']:g})")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(True, which="both", alpha=0.3)
    return _common.save_figure(fig, "second_order_newton.png", out_dir)


def plot_hessian(res, out_dir):
    plt = _common.pyplot()
    from matplotlib.colors import LogNorm

    H, dim, vocab = np.abs(res["H"]), res["dim"], res["vocab"]
    fig, ax = plt.subplots(figsize=(6.6, 5.8))
    shown = np.ma.masked_equal(H, 0.0)  # exact zeros stay white
    im = ax.imshow(shown, cmap="viridis", norm=LogNorm(vmin=max(H[H > 0].min(), 1e-8), vmax=H.max()))
    fig.colorbar(im, ax=ax, shrink=0.8, label="|H| (white: exactly 0)")
    edges = [k * dim for k in range(1, vocab + 1)] + [vocab * dim + res["sizes"][1]]
    for e in edges:
        lw = 1.2 if e >= vocab * dim else 0.4
        ax.axhline(e - 0.5, color="grey", lw=lw)
        ax.axvline(e - 0.5, color="grey", lw=lw)
    centres = [k * dim + (dim - 1) / 2 for k in range(vocab)]
    centres += [vocab * dim + (res["sizes"][1] - 1) / 2, vocab * dim + res["sizes"][1] + (res["sizes"][2] - 1) / 2]
    labels = [f"E[{k}]" + ("" if k in set(res["seen"]) else " unseen") for k in range(vocab)] + ["W", "b"]
    ax.set_xticks(centres, labels, rotation=90, fontsize=7)
    ax.set_yticks(centres, labels, fontsize=7)
    ax.set_title("Hessian of the loss in (E, W, b): Embedding(10, 2) → mean → Linear(2, 3)", fontsize=9)
    return _common.save_figure(fig, "second_order_hessian.png", out_dir)


def main(argv=None) -> dict:
    """Run both parts; return the numbers (for tests)."""
    args = _common.parse_args(_common.parser(__doc__), argv)
    rng = _common.setup(args.seed)

    lam = 1e-2
    print(f"1. L2-regularised logistic regression (λ = {lam:g}), minimise until ‖∇f‖ <= {TOL:g}")
    nt = newton_vs_gd(lam, max_gd=400 if args.quick else 20_000)
    print(f"   data: {nt['n']} tumours, {nt['features']} standardised features + intercept; "
          f"condition number of H at the optimum {nt['condition']:.1f}")
    gd_note = "" if nt["gd_converged"] else f" (not converged: ‖∇f‖ = {nt['gd_norms'][-1]:.2g})"
    print(f"   gradient descent, step 1/L = {1 / nt['L']:.3f}: {nt['gd_iterations']:,} iterations{gd_note}")
    print(f"   Newton, H from functional.hessian: {nt['newton_iterations']} iterations")
    print(f"   Newton-CG, H never formed: {nt['newton_cg_iterations']} iterations, "
          f"{nt['hvp_products']} Hessian-vector products")
    print(f"   loss at the optimum {nt['loss']:.6f}; max |θ difference|: Newton-CG {nt['cg_vs_newton']:.1e}, "
          f"scikit-learn LogisticRegression {nt['sklearn_vs_newton']:.1e}"
          + ("" if not nt["gd_converged"] else f", gradient descent {nt['gd_vs_newton']:.1e}"))
    print("   Newton's ‖∇f‖ per iteration: " + ", ".join(f"{g:.1e}" for g in nt["newton_norms"]))

    print("2. Hessian of Embedding(10, 2) -> mean of 2 tokens -> Linear(2, 3) -> cross-entropy, float64")
    eh = embedding_hessian(rng)
    print("   batch: " + ", ".join(f"{list(bag)}->{t}" for bag, t in zip(eh["idx"].tolist(), eh["target"].tolist())))
    print(f"   H is {eh['H'].shape[0]} x {eh['H'].shape[1]} (E: {eh['sizes'][0]}, W: {eh['sizes'][1]}, "
          f"b: {eh['sizes'][2]}); max |H - Hᵀ| = {eh['symmetry']:.1e}")
    print(f"   looked-up rows {eh['seen'].tolist()}: smallest max |H| over their rows {eh['seen_min']:.2e}")
    print(f"   rows never looked up {eh['unseen'].tolist()}: max |H| over their rows {eh['unseen_max']:g}, "
          f"over their columns {eh['unseen_cols_max']:g}")
    print(f"   looked-up row pairs that never share a bag {[tuple(map(int, p)) for p in eh['apart']]}: "
          f"max |H| of their blocks {eh['apart_max']:g}")
    print("Lesson: Newton's step uses the curvature that gradient descent has to feel its way along, "
          f"{nt['newton_iterations']} iterations against {nt['gd_iterations']:,}; "
          "Hessian-vector products give the same steps without forming H. "
          "An embedding's gradient is an index-add at the looked-up rows, and so is every derivative "
          "of it: a row the batch never reads has an exactly zero gradient, Hessian row and column.")

    figures = None
    if not args.no_plot:
        figures = (plot_newton(nt, args.out), plot_hessian(eh, args.out))
    return {"newton": nt, "embedding": eh, "figures": figures}


if __name__ == "__main__":
    main()
