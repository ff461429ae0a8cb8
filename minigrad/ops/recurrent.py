"""The time loop of a recurrent layer as one op: ``Recurrence``.

One direction of one layer of ``nn.RNN``/``nn.GRU``/``nn.LSTM`` runs T steps;
written with per-step tensor ops it records ~15 graph nodes per step, and their
bookkeeping, not the arithmetic, dominates. This op runs the whole loop in NumPy
and back-propagates through time in NumPy. Backward recomputes each step's
gates from the saved inputs and output only when it is recorded (on tensors, so
that they stay differentiable); a first-order backward reuses the gates forward
computed, kept per step (recomputing them took 9% of a GRU language model's step).

The input projection x̃_t = W_ih x_t + b_ih of every step is done by the caller,
in one matmul, before the loop; this op receives x̃ (T, B, G).
"""
from __future__ import annotations

import numpy as np

from minigrad.autograd import Primitive
from minigrad.ops.layers import sum_rows

__all__ = ["Recurrence"]


def _sigmoid(x):
    # σ(x) = ½(1 + tanh(x/2)): one transcendental, and no overflow for large |x|.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _affine(h, w, b):
    y = np.matmul(h, w.T)
    return y if b is None else y + b


def _step(mode, gx, h, c, w_hh, b_hh, w_hr):
    """One step forward: (h', c' or None, the values its backward needs)."""
    gh = _affine(h, w_hh, b_hh)
    if mode == "GRU":
        hs = h.shape[-1]
        rz = _sigmoid(gx[:, : 2 * hs] + gh[:, : 2 * hs])
        r, z = rz[:, :hs], rz[:, hs:]
        n = np.tanh(gx[:, 2 * hs:] + r * gh[:, 2 * hs:])
        return n + z * (h - n), None, (gh, r, z, n)
    if mode == "LSTM":
        hs = c.shape[-1]
        a = gx + gh
        i, f = _sigmoid(a[:, :hs]), _sigmoid(a[:, hs: 2 * hs])
        g, o = np.tanh(a[:, 2 * hs: 3 * hs]), _sigmoid(a[:, 3 * hs:])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        hc = o * tc
        h_new = hc if w_hr is None else np.matmul(hc, w_hr.T)
        return h_new, c_new, (i, f, g, o, tc, hc)
    a = gx + gh
    h_new = np.maximum(a, 0) if mode == "RNN_RELU" else np.tanh(a)
    return h_new, None, (a,)


def _step_backward(mode, h, c, w_hr, h_new, saved, dh_new, dc_new):
    """One step backward: (x̃̄, h̃̄, the part of ḣ_{t−1} not through W_hh, ċ_{t−1}, W̄_hr of this step)."""
    if mode == "GRU":
        gh, r, z, n = saved
        hs = h.shape[-1]
        dn = dh_new * (1.0 - z) * (1.0 - n * n)
        dz = dh_new * (h - n) * z * (1.0 - z)
        dr = dn * gh[:, 2 * hs:] * r * (1.0 - r)
        return (np.concatenate([dr, dz, dn], -1), np.concatenate([dr, dz, dn * r], -1),
                dh_new * z, None, None)
    if mode == "LSTM":
        i, f, g, o, tc, hc = saved
        dhc = dh_new if w_hr is None else np.matmul(dh_new, w_hr)
        dw_hr = None if w_hr is None else np.matmul(dh_new.T, hc)
        dct = dc_new + dhc * o * (1.0 - tc * tc)
        da = np.concatenate([dct * g * i * (1.0 - i), dct * c * f * (1.0 - f),
                             dct * i * (1.0 - g * g), dhc * tc * o * (1.0 - o)], -1)
        return da, da, 0.0, dct * f, dw_hr
    (a,) = saved
    da = dh_new * (a > 0) if mode == "RNN_RELU" else dh_new * (1.0 - h_new * h_new)
    return da, da, 0.0, None, None


class Recurrence(Primitive):
    """The states of one recurrent layer direction over T steps.

    Inputs: x̃ (T, B, G), h₀ (B, H_out), c₀ (B, H) for LSTM (else None), W_hh (G, H_out),
    b_hh (G,) or None, W_hr (H_out, H) or None (LSTM projection). Keyword arguments:
    ``mode`` ('RNN_TANH', 'RNN_RELU', 'GRU', 'LSTM'), ``reverse`` (run t = T−1 … 0),
    ``mask`` (T, B) bool or None: where False, the step keeps the previous state
    (packed sequences: a finished sequence, or a reversed one that has not started).

    Output: S (T, B, K), the state after step t: h_t (K = H_out), or [h_t, c_t]
    for LSTM (K = H_out + H). With h̃ = W_hh h_{t−1} + b_hh, one step is

    * RNN:  h = φ(x̃ + h̃), φ = tanh or relu
    * GRU:  r = σ(x̃_r + h̃_r), z = σ(x̃_z + h̃_z), n = tanh(x̃_n + r ⊙ h̃_n), h = n + z ⊙ (h_{t−1} − n)
    * LSTM: i, f, o = σ(·), g = tanh(·) of x̃ + h̃ (PyTorch's order i, f, g, o);
      c = f ⊙ c_{t−1} + i ⊙ g,  h = W_hr (o ⊙ tanh c)  (no W_hr: h = o ⊙ tanh c)

    VJP (back-propagation through time): walking the steps backwards with the
    gradients ḣ, ċ flowing into step t (from S̄_t and from step t+1),

    * RNN:  ā = ḣ ⊙ φ'(a);  the pre-activation gradient ā goes to x̃_t and h̃
    * GRU:  n̄ = ḣ(1 − z)(1 − n²), z̄ = ḣ(h_{t−1} − n) z(1 − z), r̄ = n̄ ⊙ h̃_n ⊙ r(1 − r);
      x̃̄_t = [r̄, z̄, n̄], h̃̄ = [r̄, z̄, n̄ ⊙ r]
    * LSTM: with ḣ_c = W_hrᵀ ḣ (or ḣ), c̄ = ċ + ḣ_c ⊙ o(1 − tanh² c);
      gate gradients ī = c̄ g i(1 − i), f̄ = c̄ c_{t−1} f(1 − f), ḡ = c̄ i (1 − g²), ō = ḣ_c tanh c · o(1 − o);
      ċ_{t−1} = c̄ ⊙ f, W̄_hr += ḣᵀ (o ⊙ tanh c)

    and then W̄_hh += h̃̄ᵀ h_{t−1}, b̄_hh += Σ_B h̃̄, ḣ_{t−1} = h̃̄ W_hh. A masked step
    passes ḣ, ċ to step t−1 unchanged and contributes nothing else.
    """

    @staticmethod
    def forward(ctx, gx, h0, c0, w_hh, b_hh, w_hr, mode="GRU", reverse=False, mask=None):
        _check_dtypes(gx, h0, c0, w_hh, b_hh, w_hr)
        ctx.mode, ctx.reverse, ctx.mask = mode, reverse, mask
        h, c = h0, c0
        h_out = h0.shape[-1]
        # Written step by step into one array: stacking a list of steps afterwards was another copy.
        states = np.empty((gx.shape[0], h0.shape[0], h_out + (0 if c0 is None else c0.shape[-1])), gx.dtype)
        ctx.steps = [None] * gx.shape[0]  # (h_t, what step t's backward needs), for a first-order backward
        for t in _order(gx.shape[0], reverse):
            h_new, c_new, saved = _step(mode, gx[t], h, c, w_hh, b_hh, w_hr)
            ctx.steps[t] = (h_new, saved)
            if mask is not None:
                m = mask[t][:, None]
                h_new = np.where(m, h_new, h)
                c_new = None if c is None else np.where(m, c_new, c)
            h, c = h_new, c_new
            states[t, :, :h_out] = h
            if c is not None:
                states[t, :, h_out:] = c
        ctx.save_for_backward(gx, h0, c0, w_hh, b_hh, w_hr, states)
        return states

    @staticmethod
    def backward(ctx, grad):
        gx, h0, c0, w_hh, b_hh, w_hr, states = ctx.saved_tensors
        mode, mask, h_out = ctx.mode, ctx.mask, h0.shape[-1]
        order = _order(gx.shape[0], ctx.reverse)
        dh, dc = 0.0, 0.0  # flowing into the current step from the later ones
        dw_hr = 0.0
        dgx, dgh, h_prevs = [None] * gx.shape[0], [None] * gx.shape[0], [None] * gx.shape[0]
        for k in range(len(order) - 1, -1, -1):
            t = order[k]
            prev = states[order[k - 1]] if k > 0 else None
            h = h0 if prev is None else prev[:, :h_out]
            c = None if c0 is None else (c0 if prev is None else prev[:, h_out:])
            dh = dh + grad[t][:, :h_out]
            if c is not None:
                dc = dc + grad[t][:, h_out:]
            if isinstance(gx, np.ndarray):
                h_new, saved = ctx.steps[t]
            else:  # recorded: recompute the step from its inputs, so that it depends differentiably on them
                h_new, _, saved = _step(mode, gx[t], h, c, w_hh, b_hh, w_hr)
            if mask is not None:  # a masked step passes the gradient through to the previous state
                m = mask[t][:, None]
                dh_new, dh = np.where(m, dh, 0.0), np.where(m, 0.0, dh)
                dc_new, dc = (np.where(m, dc, 0.0), np.where(m, 0.0, dc)) if c is not None else (None, 0.0)
            else:
                dh_new, dh, dc_new, dc = dh, 0.0, dc, 0.0
            d_gx, d_gh, dh_direct, dc_prev, dw_hr_t = _step_backward(mode, h, c, w_hr, h_new, saved, dh_new, dc_new)
            dgx[t], dgh[t], h_prevs[t] = d_gx, d_gh, h
            dh = dh + dh_direct + np.matmul(d_gh, w_hh)
            if c is not None:
                dc = dc + dc_prev
            if w_hr is not None:
                dw_hr = dw_hr + dw_hr_t
        # W̄_hh and b̄_hh sum over every step: one matmul over all (step, batch) rows at the end.
        dgh, h_prevs = np.stack(dgh, 0), np.stack(h_prevs, 0)
        dgh2 = np.reshape(dgh, (-1, dgh.shape[-1]))
        dw_hh = np.matmul(dgh2.T, np.reshape(h_prevs, (-1, h_prevs.shape[-1])))
        db_hh = None if b_hh is None else sum_rows(dgh2)
        need = ctx.needs_input_grad
        return (np.stack(dgx, 0) if need[0] else None,
                dh + np.zeros_like(h0) if need[1] else None,
                dc + np.zeros_like(c0) if c0 is not None and need[2] else None,
                dw_hh if need[3] else None,
                db_hh if need[4] else None,
                dw_hr if w_hr is not None and need[5] else None)


def _check_dtypes(*arrays) -> None:
    """One floating dtype for every input, as PyTorch's recurrent kernels require (they raise RuntimeError)."""
    dtypes = {a.dtype for a in arrays if a is not None}
    if len(dtypes) != 1 or next(iter(dtypes)).kind != "f":
        raise RuntimeError(
            f"recurrent layer: expected floating-point inputs of one dtype, got {sorted(str(d) for d in dtypes)}"
        )


def _order(n_steps: int, reverse: bool) -> list:
    return list(range(n_steps - 1, -1, -1)) if reverse else list(range(n_steps))
