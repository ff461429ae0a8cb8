"""Recurrent layers: ``RNN``, ``GRU``, ``LSTM`` and their one-step cells.

Names, shapes, parameter names, gate order and initialisation are PyTorch's, so
``load_state_dict(torch_module.state_dict())`` works. Each step is written with
minigrad's differentiable ops, so every order of derivative comes for free; the
cost that matters is kept low by doing the input projection of *all* time steps
in one matmul up front and one matmul per step for all gates of the recurrence.

The step equations (x̃ = W_ih x + b_ih, precomputed; h̃ = W_hh h + b_hh):

* RNN:  h' = tanh(x̃ + h̃)  (or relu)
* GRU:  r, z = σ(x̃_r + h̃_r), σ(x̃_z + h̃_z);  n = tanh(x̃_n + r·h̃_n);  h' = (1 − z)·n + z·h
* LSTM: i, f, o = σ(x̃_i + h̃_i), σ(x̃_f + h̃_f), σ(x̃_o + h̃_o);  g = tanh(x̃_g + h̃_g);
  c' = f·c + i·g;  h' = o·tanh(c')  (then h' = W_hr h' with ``proj_size``)
"""
from __future__ import annotations

import math
import warnings

import numpy as np

import minigrad
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module
from minigrad.nn.parameter import Parameter
from minigrad.nn.utils.rnn import PackedSequence, _lengths_array, _packed_rows, packed_to_padded_rows
from minigrad.ops.recurrent import Recurrence

__all__ = ["RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "GRUCell", "LSTMCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "GRU": 3, "LSTM": 4}


# -- one step (shared by the layers and the cells) -----------------------------------------
def _rnn_step(gx, h, w_hh, b_hh, relu: bool):
    pre = gx + F.linear(h, w_hh, b_hh)
    return minigrad.relu(pre) if relu else minigrad.tanh(pre)


def _gru_step(gx, h, w_hh, b_hh):
    hs = h.shape[-1]
    gh = F.linear(h, w_hh, b_hh)
    rz = minigrad.sigmoid(gx[..., : 2 * hs] + gh[..., : 2 * hs])
    r, z = rz[..., :hs], rz[..., hs:]
    n = minigrad.tanh(gx[..., 2 * hs:] + r * gh[..., 2 * hs:])
    return n + z * (h - n)


def _lstm_step(gx, h, c, w_hh, b_hh, w_hr=None):
    hs = c.shape[-1]
    gates = gx + F.linear(h, w_hh, b_hh)
    s = minigrad.sigmoid(gates)
    i, f, o = s[..., :hs], s[..., hs: 2 * hs], s[..., 3 * hs:]
    g = minigrad.tanh(gates[..., 2 * hs: 3 * hs])
    c = f * c + i * g
    h = o * minigrad.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)
    return h, c


def _uniform_init(module: Module, hidden_size: int) -> None:
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


# -- the multi-layer modules ------------------------------------------------------------------
class RNNBase(Module):
    """The machinery shared by :class:`RNN`, :class:`GRU` and :class:`LSTM` (PyTorch's ``RNNBase``)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                UserWarning, stacklevel=2,
            )
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        dt = np.dtype(dtype or np.float32)
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    setattr(self, base + suffix, Parameter(np.empty(shape, dtype=dt)))
                    names.append(base + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(−1/√hidden_size, 1/√hidden_size), as PyTorch."""
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch compacts weights for cuDNN here; minigrad's weights need no compacting."""

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction, in ``_flat_weights_names`` order."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward ---------------------------------------------------------------------------
    def _state_shapes(self, batch: int):
        d = 2 if self.bidirectional else 1
        h = (d * self.num_layers, batch, self.proj_size or self.hidden_size)
        return h, (d * self.num_layers, batch, self.hidden_size)

    def _check_input(self, input, batch_sizes) -> None:
        expected = 2 if batch_sizes is not None else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )

    @staticmethod
    def _check_hidden(hx, expected, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(tuple(expected), list(hx.shape)))

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        order = None
        if packed:
            data, batch_sizes = input.data, _lengths_array(input.batch_sizes)
            if input.sorted_indices is not None:
                order = _lengths_array(input.sorted_indices)
            batch, batched = int(batch_sizes[0]), True
            self._check_input(data, batch_sizes)
            rows = packed_to_padded_rows(batch_sizes)
            pad = minigrad.zeros((1, data.shape[1]), dtype=data.dtype)
            x = minigrad.cat([data, pad], 0)[rows]  # (T, B, I), sorted batch order
            mask = rows < len(data)
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if self.batch_first and batched:
                x = x.transpose(0, 1)
            batch, mask = x.shape[1], None
            self._check_input(x, None)
        h_shape, c_shape = self._state_shapes(batch)
        h0, c0 = self._initial_state(hx, batched, h_shape, c_shape, x.dtype)
        if order is not None:  # the caller's hidden state is in the caller's order
            h0 = h0[:, order]
            c0 = None if c0 is None else c0[:, order]
        out, h_n, c_n = self._run(x, h0, c0, mask)
        if packed:
            if order is not None:
                inverse = np.empty_like(order)
                inverse[order] = np.arange(len(order))
                h_n = h_n[:, inverse]
                c_n = None if c_n is None else c_n[:, inverse]
            t, b = _packed_rows(batch_sizes)
            output = PackedSequence(out[(t, b)], input.batch_sizes, input.sorted_indices, input.unsorted_indices)
        else:
            output = out
            if not batched:
                output, h_n = out.squeeze(1), h_n.squeeze(1)
                c_n = None if c_n is None else c_n.squeeze(1)
            elif self.batch_first:
                output = out.transpose(0, 1)
        return output, (h_n if self.mode != "LSTM" else (h_n, c_n))

    def _name(self) -> str:
        return {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)

    def _initial_state(self, hx, batched, h_shape, c_shape, dtype):
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = minigrad.zeros(h_shape, dtype=dtype)
            return h0, (minigrad.zeros(c_shape, dtype=dtype) if lstm else None)
        h0, c0 = hx if lstm else (hx, None)
        if not batched:
            if h0.ndim != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {h0.ndim}-D tensor")
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        elif h0.ndim != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {h0.ndim}-D tensor")
        if lstm:
            self._check_hidden(h0, h_shape, "Expected hidden[0] size {}, got {}")
            self._check_hidden(c0, c_shape, "Expected hidden[1] size {}, got {}")
        else:
            self._check_hidden(h0, h_shape)
        return h0, c0

    def _run(self, x, h0, c0, mask):
        """All layers over time-major ``x`` (T, B, I); returns (output, h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        hs, cs = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = self.all_weights[k]
                out, h, c = self._run_direction(layer_input, weights, h0[k], None if c0 is None else c0[k],
                                                mask, reverse=direction == 1)
                outs.append(out)
                hs.append(h)
                cs.append(c)
            layer_input = outs[0] if directions == 1 else minigrad.cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        c_n = minigrad.stack(cs, 0) if c0 is not None else None
        return layer_input, minigrad.stack(hs, 0), c_n

    def _run_direction(self, x, weights, h, c, mask, reverse: bool):
        if self.bias:
            w_ih, w_hh, b_ih, b_hh = weights[:4]
        else:
            (w_ih, w_hh), b_ih, b_hh = weights[:2], None, None
        w_hr = weights[-1] if self.proj_size else None
        gx = F.linear(x, w_ih, b_ih)  # the input projection of every step, in one matmul
        states = Recurrence.apply(gx, h, c, w_hh, b_hh, w_hr, mode=self.mode, reverse=reverse, mask=mask)
        last = 0 if reverse else x.shape[0] - 1
        if c is None:
            return states, states[last], None
        h_out = h.shape[-1]
        return states[..., :h_out], states[last, :, :h_out], states[last, :, h_out:]


class RNN(RNNBase):
    """An Elman RNN, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`` (or ``relu``), stacked and/or bidirectional.

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int, default 1
    nonlinearity : {'tanh', 'relu'}
    bias : bool, default True
    batch_first : bool, default False
        Input and output ``(B, T, *)`` instead of ``(T, B, *)`` (the hidden state stays ``(layers, B, H)``).
    dropout : float, default 0
        Dropout on the outputs of every layer except the last, while training.
    bidirectional : bool, default False

    Returns
    -------
    ``(output, h_n)``: output ``(T, B, D·H)`` (or a :class:`PackedSequence`), h_n ``(D·num_layers, B, H)``.

    Examples
    --------
    >>> import minigrad
    >>> rnn = minigrad.nn.RNN(4, 8, num_layers=2)
    >>> out, h = rnn(minigrad.randn(5, 3, 4))
    >>> out.shape, h.shape
    (minigrad.Size([5, 3, 8]), minigrad.Size([2, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class GRU(RNNBase):
    """A gated recurrent unit layer (gates r, z, n in PyTorch's order; equations in the module docstring).

    Same arguments and returns as :class:`RNN` (without ``nonlinearity``).

    Examples
    --------
    >>> import minigrad
    >>> gru = minigrad.nn.GRU(4, 8, batch_first=True, bidirectional=True)
    >>> out, h = gru(minigrad.randn(3, 5, 4))
    >>> out.shape, h.shape
    (minigrad.Size([3, 5, 16]), minigrad.Size([2, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)


class LSTM(RNNBase):
    """A long short-term memory layer (gates i, f, g, o in PyTorch's order; equations in the module docstring).

    Same arguments as :class:`GRU`, plus ``proj_size``: with ``proj_size > 0`` the
    hidden state is projected to that size by ``weight_hr_l{k}`` after each step.
    Takes and returns ``(h, c)`` as the state: ``(output, (h_n, c_n))``.

    Examples
    --------
    >>> import minigrad
    >>> lstm = minigrad.nn.LSTM(4, 8, proj_size=3)
    >>> out, (h, c) = lstm(minigrad.randn(5, 2, 4))
    >>> out.shape, h.shape, c.shape
    (minigrad.Size([5, 2, 3]), minigrad.Size([1, 2, 3]), minigrad.Size([1, 2, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


# -- cells ----------------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The parameters shared by the one-step cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        dt = np.dtype(dtype or np.float32)
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), dtype=dt))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size), dtype=dt))
        if bias:
            self.bias_ih = Parameter(np.empty((num_chunks * hidden_size,), dtype=dt))
            self.bias_hh = Parameter(np.empty((num_chunks * hidden_size,), dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, name: str):
        """(input as (B, I), the state(s) as (B, H), batched?) with PyTorch's checks."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}"
            )
        batched = input.ndim == 2
        if hx is not None:
            for h in (hx if isinstance(hx, tuple) else (hx,)):
                if h.ndim != input.ndim:
                    raise RuntimeError(
                        f"{name}: Expected hidden to be {input.ndim}D for {input.ndim}D input, got {h.ndim}D instead"
                    )
                if batched and h.shape[0] != input.shape[0]:
                    raise RuntimeError(
                        f"Input batch size {input.shape[0]} doesn't match hidden0 batch size {h.shape[0]}"
                    )
                if h.shape[-1] != self.hidden_size:
                    raise RuntimeError(
                        f"hidden0 has inconsistent hidden_size: got {h.shape[-1]}, expected {self.hidden_size}"
                    )
        if not batched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx) if isinstance(hx, tuple) else hx.unsqueeze(0)
        if hx is None:
            zero = minigrad.zeros((input.shape[0], self.hidden_size), dtype=input.dtype)
            hx = (zero, minigrad.zeros((input.shape[0], self.hidden_size), dtype=input.dtype)) \
                if name == "LSTMCell" else zero
        return input, hx, batched


class RNNCell(RNNCellBase):
    """One Elman step: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ``relu``).

    Examples
    --------
    >>> import minigrad
    >>> cell = minigrad.nn.RNNCell(4, 8)
    >>> cell(minigrad.randn(3, 4)).shape
    minigrad.Size([3, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx, "RNNCell")
        h = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class GRUCell(RNNCellBase):
    """One GRU step (equations in the module docstring); returns ``h'``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.nn.GRUCell(4, 8)(minigrad.randn(3, 4)).shape
    minigrad.Size([3, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, h, batched = self._prepare(input, hx, "GRUCell")
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step (equations in the module docstring); takes and returns ``(h, c)``.

    Examples
    --------
    >>> import minigrad
    >>> h, c = minigrad.nn.LSTMCell(4, 8)(minigrad.randn(3, 4))
    >>> h.shape, c.shape
    (minigrad.Size([3, 8]), minigrad.Size([3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, "LSTMCell")
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
