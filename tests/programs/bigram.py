"""A bigram character model, first by counting, then as a one-layer network trained by gradient descent.

The shape of the first makemore lesson: count character pairs, normalise
rows into probabilities and sample names with ``torch.multinomial`` from a
seeded ``torch.Generator``; then learn the same table as the weights of a
27x27 layer. ``main`` returns the losses it printed and the initial weights.
"""
import torch

from corpus import WORDS


def main(steps=12, init=None):
    chars = sorted(set("".join(WORDS)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    V = len(stoi)

    # Counting: N[a, b] = how often b follows a.
    N = torch.zeros((V, V), dtype=torch.int32)
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    P = (N + 1).float()
    P /= P.sum(1, keepdim=True)

    g = torch.Generator().manual_seed(2147483647)
    names = []
    for _ in range(5):
        out, ix = [], 0
        while len(out) < 20:  # an undertrained model may take long to end a name
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(itos[ix])
        names.append("".join(out))

    log_likelihood, n = 0.0, 0
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
            n += 1
    losses = [(-log_likelihood / n).item()]
    print(f"counting: nll={losses[0]:.4f}, samples: {names}")

    # The same model as a network: logits = W[x] (one-hot times W), trained by gradient descent.
    xs, ys = [], []
    for w in WORDS:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    xs, ys = torch.tensor(xs), torch.tensor(ys)
    num = xs.numel()
    W = torch.randn((V, V), generator=g, requires_grad=True)
    if init is not None:
        W = torch.tensor(init["W"], requires_grad=True)
    initial = {"W": W.detach().numpy().copy()}
    for k in range(steps):
        logits = W[xs]
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdim=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        losses.append(loss.item())
        print(f"step {k}: loss {loss:.4f}")
        W.grad = None
        loss.backward()
        with torch.no_grad():
            W -= 50 * W.grad

    for _ in range(3):
        out, ix = [], 0
        while len(out) < 20:  # an undertrained model may take long to end a name
            p = W[torch.tensor([ix])].exp()
            p = p / p.sum(1, keepdim=True)
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(itos[ix])
        names.append("".join(out))
    assert all(set(name) <= set(chars) for name in names)
    return losses, initial


if __name__ == "__main__":
    main()
