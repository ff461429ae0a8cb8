"""The op table for the sequence-model op: ``minigrad.ops.recurrent.Recurrence``.

The reference runs PyTorch's own one-step cells (``torch.rnn_tanh_cell``,
``torch.gru_cell``, ``torch.lstm_cell``) in a Python loop. The cells apply an input
projection of their own, so they get the identity as ``W_ih`` and zero ``b_ih``:
what the op receives, x̃, is already projected.
"""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume
from hypothesis import strategies as st

from minigrad.ops.recurrent import Recurrence
from minigrad.testing import strategies as mst
from opinfo import OpInfo, Sample

A = mst.arrays
_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


def recurrence_op(gx, h0, c0, w_hh, b_hh, w_hr, mode, reverse, mask):
    # The mask stays a tensor: apply hands the op its array and version-checks it.
    return Recurrence.apply(gx, h0, c0, w_hh, b_hh, w_hr, mode=mode, reverse=reverse, mask=mask)


def recurrence_ref(gx, h0, c0, w_hh, b_hh, w_hr, mode, reverse, mask):
    dtypes = {t.dtype for t in (gx, h0, c0, w_hh, b_hh, w_hr) if t is not None}
    if len(dtypes) != 1 or not next(iter(dtypes)).is_floating_point:
        # PyTorch's recurrent layers raise RuntimeError for these (the identity trick below would not).
        raise RuntimeError(f"expected floating-point inputs of one dtype, got {dtypes}")
    g = gx.shape[-1]
    eye, zero = torch.eye(g, dtype=gx.dtype), torch.zeros(g, dtype=gx.dtype)
    b = zero if b_hh is None else b_hh
    h, c = h0, c0
    out = [None] * gx.shape[0]
    steps = range(gx.shape[0] - 1, -1, -1) if reverse else range(gx.shape[0])
    for t in steps:
        if mode == "LSTM" and w_hr is None:
            h_new, c_new = torch.lstm_cell(gx[t], (h, c), eye, w_hh, zero, b)
        elif mode == "LSTM":  # lstm_cell has no projection: the step written out
            i, f, gg, o = (gx[t] + h @ w_hh.T + b).chunk(4, -1)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg)
            h_new = (torch.sigmoid(o) * torch.tanh(c_new)) @ w_hr.T
        else:
            cell = {"RNN_TANH": torch.rnn_tanh_cell, "RNN_RELU": torch.rnn_relu_cell, "GRU": torch.gru_cell}[mode]
            h_new, c_new = cell(gx[t], h, eye, w_hh, zero, b), None
        if mask is not None:
            m = mask[t][:, None]
            h_new = torch.where(m, h_new, h)
            c_new = None if c is None else torch.where(m, c_new, c)
        h, c = h_new, c_new
        out[t] = h if c is None else torch.cat([h, c], -1)
    return torch.stack(out, 0)


@st.composite
def recurrence_samples(draw):
    mode = draw(st.sampled_from(list(_GATES)))
    steps, batch, hidden = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    proj = mode == "LSTM" and hidden > 1 and draw(st.booleans())
    h_out = hidden - 1 if proj else hidden
    g = _GATES[mode] * hidden
    elems = {"min_value": -1.5, "max_value": 1.5}
    gx = draw(A((steps, batch, g), **elems))
    h0 = draw(A((batch, h_out), **elems))
    c0 = draw(A((batch, hidden), **elems)) if mode == "LSTM" else None
    w_hh = draw(A((g, h_out), **elems))
    b_hh = draw(A((g,), **elems)) if draw(st.booleans()) else None
    w_hr = draw(A((h_out, hidden), **elems)) if proj else None
    mask = None
    if draw(st.booleans()):
        lengths = draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
        mask = np.arange(steps)[:, None] < np.array(lengths)[None, :]
    reverse = draw(st.booleans())
    if mode == "RNN_RELU":
        assume(_away_from_relu_kink(gx, h0, w_hh, b_hh, reverse, mask))
    return Sample((gx, h0, c0, w_hh, b_hh, w_hr, mode, reverse, mask))


def _away_from_relu_kink(gx, h, w_hh, b_hh, reverse, mask, gap=0.05):
    """Whether every pre-activation is ``gap`` from 0, so finite differences do not straddle relu's kink."""
    for t in (range(len(gx) - 1, -1, -1) if reverse else range(len(gx))):
        a = gx[t] + h @ w_hh.T + (0 if b_hh is None else b_hh)
        if np.any(np.abs(a) < gap):
            return False
        h = np.maximum(a, 0) if mask is None else np.where(mask[t][:, None], np.maximum(a, 0), h)
    return True


OPS = [
    OpInfo("recurrence", recurrence_op, recurrence_ref, recurrence_samples, (Recurrence,)),
]
