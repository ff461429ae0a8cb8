"""A character-level MLP language model: embeddings of the last three characters, a tanh layer, softmax.

The shape of the second makemore lesson (after Bengio et al. 2003): a lookup
table C, ``emb.view(-1, 6)``, ``F.cross_entropy``, a learning-rate drop, then
sampling with ``torch.multinomial``. Full-batch steps keep the two libraries'
runs comparable (minibatch indices would come from different random streams).
"""
import torch
import torch.nn.functional as F

from corpus import WORDS


def main(steps=15, init=None):
    chars = sorted(set("".join(WORDS)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    V = len(stoi)
    block_size = 3

    X, Y = [], []
    for w in WORDS:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X, Y = torch.tensor(X), torch.tensor(Y)

    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((V, 2), generator=g)
    W1 = torch.randn((6, 100), generator=g)
    b1 = torch.randn(100, generator=g)
    W2 = torch.randn((100, V), generator=g)
    b2 = torch.randn(V, generator=g)
    parameters = [C, W1, b1, W2, b2]
    if init is not None:
        parameters = [torch.tensor(init[f"p{i}"]) for i in range(len(parameters))]
        C, W1, b1, W2, b2 = parameters
    initial = {f"p{i}": p.numpy().copy() for i, p in enumerate(parameters)}
    print(sum(p.numel() for p in parameters), "parameters")
    for p in parameters:
        p.requires_grad = True

    optimizer = torch.optim.SGD(parameters, lr=0.1)
    losses = []
    for step in range(steps):
        emb = C[X]
        h = torch.tanh(emb.view(-1, 6) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        if step == steps // 2:
            for group in optimizer.param_groups:
                group["lr"] = 0.05
        optimizer.step()
    print(f"loss after {steps} steps: {losses[-1]:.4f}")

    names = []
    for _ in range(5):
        out, context = [], [0] * block_size
        while len(out) < 20:  # an undertrained model may take long to end a name
            emb = C[torch.tensor([context])]
            h = torch.tanh(emb.view(1, -1) @ W1 + b1)
            probs = F.softmax(h @ W2 + b2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0:
                break
            out.append(itos[ix])
        names.append("".join(out))
    assert all(set(name) <= set(chars) for name in names)
    return losses, initial


if __name__ == "__main__":
    main()
