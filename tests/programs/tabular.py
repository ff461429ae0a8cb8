"""A tabular classifier with entity embeddings: one ``nn.Embedding`` per categorical column.

The much-copied shape: embeddings of the categorical columns concatenated with
the continuous ones (normalised by a ``BatchNorm1d``), ``Linear``/``ReLU``/
``BatchNorm1d`` layers in an ``nn.Sequential``, a ``TensorDataset`` and a
``DataLoader``, ``CrossEntropyLoss`` and ``Adam``. After training, the loss of
the whole set in ``eval()`` mode checks the running statistics too.
Batches come in order (``shuffle=False``) so both libraries see the same ones;
dropout is 0 for the same reason.
"""
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset


class TabularModel(nn.Module):
    def __init__(self, emb_szs, n_cont, out_sz, layers, p=0.0):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(ni, nf) for ni, nf in emb_szs])
        self.emb_drop = nn.Dropout(p)
        self.bn_cont = nn.BatchNorm1d(n_cont)
        n_in = sum(nf for _, nf in emb_szs) + n_cont
        layerlist = []
        for i in layers:
            layerlist.append(nn.Linear(n_in, i))
            layerlist.append(nn.ReLU(inplace=True))
            layerlist.append(nn.BatchNorm1d(i))
            layerlist.append(nn.Dropout(p))
            n_in = i
        layerlist.append(nn.Linear(layers[-1], out_sz))
        self.layers = nn.Sequential(*layerlist)

    def forward(self, x_cat, x_cont):
        embeddings = [e(x_cat[:, i]) for i, e in enumerate(self.embeds)]
        x = torch.cat(embeddings, 1)
        x = self.emb_drop(x)
        x_cont = self.bn_cont(x_cont)
        x = torch.cat([x, x_cont], 1)
        return self.layers(x)


def make_data(n=640, seed=0):
    """Synthetic rows: three categorical columns, two continuous, a label that depends on both."""
    rng = np.random.default_rng(seed)
    cats = np.stack([rng.integers(0, k, n) for k in (7, 24, 2)], axis=1)
    conts = rng.standard_normal((n, 2)).astype(np.float32)
    score = np.sin(cats[:, 0]) + (cats[:, 1] % 5 == 0) - cats[:, 2] + conts[:, 0] * conts[:, 1]
    return cats.astype(np.int64), conts, (score > 0.2).astype(np.int64)


def main(epochs=2, init=None):
    cats, conts, labels = make_data()
    ds = TensorDataset(torch.tensor(cats), torch.tensor(conts), torch.tensor(labels))
    loader = DataLoader(ds, batch_size=64, shuffle=False)

    model = TabularModel([(7, 4), (24, 12), (2, 1)], n_cont=2, out_sz=2, layers=[32, 16])
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

    losses = []
    for epoch in range(epochs):
        model.train()
        for x_cat, x_cont, y in loader:
            y_pred = model(x_cat, x_cont)
            loss = criterion(y_pred, y)
            losses.append(loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch}: loss {loss.item():10.8f}")

    model.eval()
    with torch.no_grad():
        x_cat, x_cont, y = ds[:]
        y_pred = model(x_cat, x_cont)
        losses.append(criterion(y_pred, y).item())
        accuracy = (y_pred.argmax(1) == y).float().mean().item()
    print(f"eval loss {losses[-1]:10.8f}, training accuracy {accuracy:.3f}")
    return losses, initial


if __name__ == "__main__":
    main()
