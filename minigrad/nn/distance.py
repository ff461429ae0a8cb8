"""Distance layers: stateless modules around ``F.cosine_similarity`` and ``F.pairwise_distance``."""
from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """cos θ = x₁·x₂ / (max(‖x₁‖, eps)·max(‖x₂‖, eps)) along ``dim``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> nn.CosineSimilarity(dim=1)(minigrad.tensor([[3.0, 4.0]]), minigrad.tensor([[4.0, 3.0]]))
    tensor([0.9600])
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """‖x₁ − x₂ + eps‖_p along the last dimension, for each row.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> nn.PairwiseDistance(p=1.0, eps=0.0)(minigrad.tensor([[1.0, 2.0]]), minigrad.tensor([[0.0, 4.0]]))
    tensor([3.])
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
