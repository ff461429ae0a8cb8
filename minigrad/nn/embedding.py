"""``Embedding`` and ``EmbeddingBag``: trainable lookup tables for discrete inputs."""
from __future__ import annotations

import numpy as np

from minigrad.autograd import no_grad
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter

__all__ = ["Embedding", "EmbeddingBag"]


def _check_weight(weight, num_embeddings, embedding_dim):
    if tuple(weight.shape) != (num_embeddings, embedding_dim):
        raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
    return weight if isinstance(weight, Parameter) else Parameter(weight)


def _padding_row(padding_idx, num_embeddings: int, name: str):
    """The module attribute: None, or the padding row counted from the start."""
    row = F._normalize_padding_idx(padding_idx, num_embeddings, name)
    return None if row < 0 else row


class Embedding(Module):
    """A trainable lookup table: row ``i`` of ``weight`` is the vector of item ``i``.

    ``Embedding(V, D)`` holds a ``(V, D)`` weight. Given integer indices of any
    shape it returns their rows, shape ``input.shape + (D,)``.

    * **Forward** is a *gather*: ``out[..., :] = weight[input[...], :]``.
    * **Backward** is an *index-add*: ``grad_W[input[i], :] += grad_out[i, :]``.
      Only the looked-up rows receive gradient, so an optimizer step moves only
      them; a row looked up twice gets the sum of both gradients.

    It is exactly ``one_hot(input, V).float() @ weight`` - same output, same
    weight gradient - but costs O(n·D) for n indices instead of O(n·V·D), and
    never builds the (n, V) one-hot matrix. That makes it the layer for
    *discrete* inputs (tokens, user ids, categories), where an index carries no
    magnitude, only identity. :class:`~minigrad.nn.Linear` is its counterpart for
    *continuous* inputs, where every feature contributes to every output.

    Parameters
    ----------
    num_embeddings : int
        V, the number of rows (vocabulary size).
    embedding_dim : int
        D, the size of each vector.
    padding_idx : int, optional
        A row reserved for padding: zeroed at initialisation and never updated
        (its gradient is always 0). The forward pass returns whatever the row
        holds. A negative value counts from the end; outside [−V, V) is an
        ``AssertionError``.
    max_norm : float, optional
        Before each lookup, every looked-up row whose ``norm_type``-norm exceeds
        ``max_norm`` is rescaled to norm ``max_norm``. **This modifies ``weight``
        in place** (outside autograd, even under ``no_grad``/``eval``) and bumps
        its version: a graph built earlier that saved ``weight`` (say, a
        ``x @ emb.weight.T`` output layer) can no longer be backpropagated.
        Backpropagate first, or use ``emb.weight.clone()`` in the other branch.
    norm_type : float, default 2.0
        The p of the p-norm for ``max_norm``.
    scale_grad_by_freq : bool, default False
        Divide each row's gradient by how many times it occurs in the batch.
    sparse : bool, default False
        Make ``weight.grad`` a row-sparse :class:`~minigrad.sparse.SparseTensor`
        (the looked-up indices and their gradient rows, uncoalesced) instead of
        a dense (V, D) array. Use with SGD, SparseAdam or Adagrad.
    _weight : Tensor, optional
        Use this (V, D) tensor as the weight instead of initialising one.
    dtype : dtype, optional
        float32 unless given.

    Attributes
    ----------
    weight : Parameter, shape (V, D)
        Initialised N(0, 1).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> emb = nn.Embedding(5, 3)
    >>> idx = minigrad.tensor([[0, 2], [2, 4]])
    >>> emb(idx).shape
    minigrad.Size([2, 2, 3])
    >>> emb(idx).sum().backward()
    >>> emb.weight.grad[:, 0].tolist()   # row 2 was looked up twice; rows 1, 3 not at all
    [1.0, 0.0, 2.0, 0.0, 1.0]
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight=None, _freeze: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "Padding_idx")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=np.dtype(dtype or np.float32)),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            self.weight = _check_weight(_weight, num_embeddings, embedding_dim)
            self.weight.requires_grad_(not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight._array[self.padding_idx] = 0
                self.weight._bump_version()

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding whose weight *is* ``embeddings`` (a 2-D tensor; memory shared, not copied).

        ``freeze=True`` (default) makes the weight not require grad. The
        ``padding_idx`` row is left as given (not zeroed), but still gets no gradient.
        """
        assert embeddings.ndim == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings, without the intermediate lookups per bag.

    ``EmbeddingBag(mode='sum')(input, offsets)`` equals summing ``Embedding(input)``
    over each bag, but runs as one gather, one segment reduction and (backward)
    one index-add. Bags: a 2-D input is B bags of equal length; a 1-D input is
    split at ``offsets`` (see :func:`minigrad.nn.functional.embedding_bag`).

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    max_norm, norm_type, scale_grad_by_freq, sparse, padding_idx
        As in :class:`Embedding` (entries equal to ``padding_idx`` are left out of
        every bag; 'mean' divides by the number of the others).
    mode : {'mean', 'sum', 'max'}, default 'mean'
    include_last_offset : bool, default False
        ``offsets`` has B + 1 entries, the last one closing the last bag.

    Attributes
    ----------
    weight : Parameter, shape (V, D), initialised N(0, 1)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx=None, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.padding_idx = _padding_row(padding_idx, num_embeddings, "padding_idx")
        if _weight is None:
            self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=np.dtype(dtype or np.float32)))
            self.reset_parameters()
        else:
            self.weight = _check_weight(_weight, num_embeddings, embedding_dim)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight._array[self.padding_idx] = 0
                self.weight._bump_version()

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx=None) -> "EmbeddingBag":
        """An EmbeddingBag sharing ``embeddings`` (2-D) as its weight; frozen by default."""
        assert embeddings.ndim == 2, "Embeddings parameter is expected to be 2-dimensional"
        rows, cols = embeddings.shape
        bag = cls(rows, cols, _weight=embeddings, max_norm=max_norm, norm_type=norm_type,
                  scale_grad_by_freq=scale_grad_by_freq, mode=mode, sparse=sparse,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
