"""Fit a cubic with ``nn`` and ``optim``: the shape of PyTorch's "Learning PyTorch with Examples".

Features x, x², x³ from ``x.unsqueeze(-1).pow(p)``, a ``Sequential(Linear(3, 1),
Flatten(0, 1))``, ``MSELoss(reduction='sum')``; first updated by hand under
``no_grad`` (the nn lesson), then by ``optim.RMSprop`` (the optim lesson). The
target is a cubic, so the fit can be exact.
"""
import math

import torch


def main(steps=20, init=None):
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = 0.3 - 0.8 * x + 0.05 * x**2 + 0.1 * x**3
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)

    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    if init is not None:
        model.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    initial = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    loss_fn = torch.nn.MSELoss(reduction="sum")

    losses = []
    learning_rate = 1e-6
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= learning_rate * param.grad

    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    linear_layer = model[0]
    print(f"Result: y = {linear_layer.bias.item():.4f} + {linear_layer.weight[:, 0].item():.4f} x + "
          f"{linear_layer.weight[:, 1].item():.4f} x^2 + {linear_layer.weight[:, 2].item():.4f} x^3")
    return losses, initial


if __name__ == "__main__":
    main()
