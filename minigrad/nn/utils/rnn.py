"""Variable-length batches for the recurrent layers: ``PackedSequence`` and its helpers.

A *packed* batch stores only the real time steps of every sequence. Sorted by
decreasing length, step ``t`` of the batch holds the first ``batch_sizes[t]``
sequences, and ``data`` lists those rows step after step::

    lengths 3, 2, 1       data = [a0, b0, c0,  a1, b1,  a2]     batch_sizes = [3, 2, 1]

Every conversion here is one differentiable row gather (``padded[rows]`` or
``data[rows]``), so gradients flow through packing and unpacking.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import minigrad
from minigrad.tensor import Tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence", "pack_sequence",
           "unpad_sequence", "unpack_sequence"]


class PackedSequence(NamedTuple):
    """A batch of sequences of different lengths, packed (see the module docstring).

    Attributes
    ----------
    data : Tensor, shape (sum of lengths, *)
    batch_sizes : Tensor of int64, shape (longest length,)
        How many sequences are still running at each time step.
    sorted_indices : Tensor of int64 or None
        ``sorted_indices[i]`` is the original batch position of the i-th longest sequence
        (None when the batch was already sorted).
    unsorted_indices : Tensor of int64 or None
        The inverse permutation.
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def _lengths_array(lengths) -> np.ndarray:
    arr = lengths._array if isinstance(lengths, Tensor) else np.asarray(lengths)
    return np.asarray(arr, dtype=np.int64).reshape(-1)


def _packed_rows(batch_sizes: np.ndarray):
    """The (time, batch) position of every packed row, in packed order."""
    t = np.repeat(np.arange(len(batch_sizes)), batch_sizes)
    b = np.concatenate([np.arange(n) for n in batch_sizes]) if len(batch_sizes) else np.zeros(0, np.int64)
    return t, b


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """batch_sizes[t] = how many of the (decreasing) lengths exceed t."""
    steps = np.arange(int(sorted_lengths[0]) if len(sorted_lengths) else 0)
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is
    sorted here and the permutation kept in the result, so that
    :func:`pad_packed_sequence` and the recurrent layers give results in the
    caller's order.
    """
    lens = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if len(lens) != input.shape[batch_dim]:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lens)} (batch_size={input.shape[batch_dim]})"
        )
    if len(lens) and lens.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
                "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                "if you do not need ONNX exportability."
            )
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
    if lens[0] > input.shape[1 - batch_dim]:
        # PyTorch reads past the end here; a clear error is kinder.
        raise RuntimeError(f"the longest length ({lens[0]}) exceeds the padded input's {input.shape[1 - batch_dim]} steps")
    batch_sizes = _batch_sizes(lens)
    t, b = _packed_rows(batch_sizes)
    if order is not None:
        b = order[b]
    data = input[(b, t)] if batch_first else input[(t, b)]
    return _packed(data, batch_sizes, order)


def _packed(data, batch_sizes, order) -> PackedSequence:
    if order is None:
        return PackedSequence(data, minigrad.tensor(batch_sizes), None, None)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    return PackedSequence(data, minigrad.tensor(batch_sizes), minigrad.tensor(order), minigrad.tensor(inverse))


def _order(sequence: PackedSequence):
    """The sorted_indices as an array (None for a batch packed in order)."""
    return None if sequence.sorted_indices is None else _lengths_array(sequence.sorted_indices)


def packed_to_padded_rows(batch_sizes: np.ndarray, total_length: int | None = None):
    """For each padded (t, b) of the sorted batch, its packed row, or ``len(data)`` at padding."""
    n_rows = int(batch_sizes.sum())
    steps = total_length if total_length is not None else len(batch_sizes)
    batch = int(batch_sizes[0]) if len(batch_sizes) else 0
    rows = np.full((steps, batch), n_rows, dtype=np.int64)
    t, b = _packed_rows(batch_sizes)
    rows[t, b] = np.arange(n_rows)
    return rows


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """Undo :func:`pack_padded_sequence`: ``(padded, lengths)`` in the original batch order.

    Padding positions hold ``padding_value``; ``total_length`` pads to that many steps.
    """
    batch_sizes = _lengths_array(sequence.batch_sizes)
    if total_length is not None and total_length < len(batch_sizes):
        raise ValueError(
            "Expected total_length to be at least the length of the longest sequence in input, but got "
            f"total_length={total_length} and max sequence length being {len(batch_sizes)}"
        )
    data = sequence.data
    rows = packed_to_padded_rows(batch_sizes, total_length)
    lengths = (np.arange(rows.shape[1])[None, :] < batch_sizes[:, None]).sum(axis=0).astype(np.int64)
    order = _order(sequence)
    if order is not None:
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        rows, lengths = rows[:, inverse], lengths[inverse]
    pad = minigrad.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = minigrad.cat([data, pad], 0)[rows]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, minigrad.tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack tensors of shapes ``(L_i, *)`` into ``(max L, B, *)`` (``(B, max L, *)`` with ``batch_first``).

    Shorter sequences are filled with ``padding_value`` on the right (or the left
    with ``padding_side='left'``).
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    longest, total = int(lens.max()), int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    steps = np.arange(longest)[:, None]
    offset = steps if padding_side == "right" else steps - (longest - lens)[None, :]
    valid = (offset >= 0) & (offset < lens[None, :])
    rows = np.where(valid, starts[None, :] + offset, total)
    first = sequences[0]
    pad = minigrad.full((1,) + tuple(first.shape[1:]), padding_value, dtype=first.dtype)
    padded = minigrad.cat(sequences + [pad], 0)[rows]
    return padded.transpose(0, 1) if batch_first else padded


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors ``(L_i, *)`` (decreasing lengths unless ``enforce_sorted=False``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False):
    """Split a padded batch back into a list of tensors of ``lengths``."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, : int(n)] for i, n in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence):
    """Split a packed batch into the list of its sequences, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
