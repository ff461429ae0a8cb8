"""RNN, GRU, LSTM, their cells and the packed-sequence utilities, against PyTorch in float64.

Every parity test loads the PyTorch module's ``state_dict`` into the minigrad one, runs
both on the same inputs and compares the outputs, the final states and the gradient of
every parameter and input under a random cotangent.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.nn.utils import rnn as rnn_utils
from minigrad.testing import gradcheck

F64 = np.float64


def _pair(kind, input_size, hidden_size, **kw):
    t = getattr(torch.nn, kind)(input_size, hidden_size, **kw).double()
    m = getattr(nn, kind)(input_size, hidden_size, **kw, dtype=F64)
    m.load_state_dict(t.state_dict())
    return t, m


def _leaves(values):
    return [torch.tensor(v, requires_grad=True) for v in values], [minigrad.tensor(v, requires_grad=True) for v in values]


def _flat(x):
    """The tensors inside an RNN result (tensor, PackedSequence or tuples of them)."""
    if isinstance(x, (rnn_utils.PackedSequence, torch.nn.utils.rnn.PackedSequence)):
        return [x.data]
    if isinstance(x, tuple):
        return [t for item in x for t in _flat(item)]
    return [x]


def _check_parity(t_mod, m_mod, t_args, m_args, t_leaves, m_leaves, rng, atol=1e-10):
    t_out, m_out = _flat(t_mod(*t_args)), _flat(m_mod(*m_args))
    assert len(t_out) == len(m_out)
    t_loss, m_loss = 0, 0
    for a, b in zip(t_out, m_out):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=atol, rtol=1e-8)
        w = rng.standard_normal(tuple(a.shape))
        t_loss = t_loss + (a * torch.tensor(w)).sum()
        m_loss = m_loss + (b * minigrad.tensor(w)).sum()
    t_loss.backward()
    m_loss.backward()
    for a, b in zip(t_leaves, m_leaves):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=atol, rtol=1e-8)
    t_params = dict(t_mod.named_parameters())
    for name, p in m_mod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), atol=atol, rtol=1e-8, err_msg=name)


@st.composite
def rnn_configs(draw):
    kind = draw(st.sampled_from(["RNN", "GRU", "LSTM"]))
    kw = {
        "num_layers": draw(st.integers(1, 2)),
        "bias": draw(st.booleans()),
        "batch_first": draw(st.booleans()),
        "bidirectional": draw(st.booleans()),
    }
    if kind == "RNN":
        kw["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
    hidden = draw(st.integers(1, 5))
    if kind == "LSTM" and hidden > 1 and draw(st.booleans()):
        kw["proj_size"] = draw(st.integers(1, hidden - 1))
    return kind, draw(st.integers(1, 4)), hidden, kw


@settings(max_examples=15)
@given(cfg=rnn_configs(), steps=st.integers(1, 5), batch=st.integers(1, 3), with_state=st.booleans(),
       seed=st.integers(0, 2**16))
def test_recurrent_layer_matches_torch(cfg, steps, batch, with_state, seed):
    kind, input_size, hidden, kw = cfg
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    t_mod, m_mod = _pair(kind, input_size, hidden, **kw)
    shape = (batch, steps, input_size) if kw["batch_first"] else (steps, batch, input_size)
    values = [rng.standard_normal(shape)]
    d = (2 if kw["bidirectional"] else 1) * kw["num_layers"]
    if with_state:
        values.append(rng.standard_normal((d, batch, kw.get("proj_size") or hidden)))
        if kind == "LSTM":
            values.append(rng.standard_normal((d, batch, hidden)))
    t_leaves, m_leaves = _leaves(values)
    t_args, m_args = [t_leaves[0]], [m_leaves[0]]
    if with_state:
        t_args.append(tuple(t_leaves[1:]) if kind == "LSTM" else t_leaves[1])
        m_args.append(tuple(m_leaves[1:]) if kind == "LSTM" else m_leaves[1])
    _check_parity(t_mod, m_mod, t_args, m_args, t_leaves, m_leaves, rng)


@settings(max_examples=10)
@given(cfg=rnn_configs(), lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       enforce_sorted=st.booleans(), seed=st.integers(0, 2**16))
def test_recurrent_layer_on_packed_sequences_matches_torch(cfg, lengths, enforce_sorted, seed):
    kind, input_size, hidden, kw = cfg
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    t_mod, m_mod = _pair(kind, input_size, hidden, **kw)
    bf = kw["batch_first"]
    batch, steps = len(lengths), max(lengths)
    d = (2 if kw["bidirectional"] else 1) * kw["num_layers"]
    values = [rng.standard_normal((batch, steps, input_size) if bf else (steps, batch, input_size)),
              rng.standard_normal((d, batch, kw.get("proj_size") or hidden))]
    if kind == "LSTM":
        values.append(rng.standard_normal((d, batch, hidden)))
    t_leaves, m_leaves = _leaves(values)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(t_leaves[0], lengths, bf, enforce_sorted)
    m_packed = rnn_utils.pack_padded_sequence(m_leaves[0], lengths, bf, enforce_sorted)
    np.testing.assert_array_equal(m_packed.batch_sizes.detach().numpy(), t_packed.batch_sizes.numpy())
    t_state = tuple(t_leaves[1:]) if kind == "LSTM" else t_leaves[1]
    m_state = tuple(m_leaves[1:]) if kind == "LSTM" else m_leaves[1]
    _check_parity(t_mod, m_mod, (t_packed, t_state), (m_packed, m_state), t_leaves, m_leaves, rng)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_unbatched_input_matches_torch(kind, rng):
    t_mod, m_mod = _pair(kind, 3, 4, num_layers=2)
    t_leaves, m_leaves = _leaves([rng.standard_normal((5, 3))])
    _check_parity(t_mod, m_mod, t_leaves, m_leaves, t_leaves, m_leaves, rng)


@pytest.mark.parametrize("kind, kw", [("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {}), ("GRUCell", {}),
                                      ("LSTMCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(kind, kw, batched, rng):
    t_mod, m_mod = _pair(kind, 3, 4, **kw)
    lead = (2,) if batched else ()
    values = [rng.standard_normal(lead + (3,)), rng.standard_normal(lead + (4,))]
    if kind == "LSTMCell":
        values.append(rng.standard_normal(lead + (4,)))
    t_leaves, m_leaves = _leaves(values)
    state = (lambda xs: tuple(xs[1:])) if kind == "LSTMCell" else (lambda xs: xs[1])
    _check_parity(t_mod, m_mod, (t_leaves[0], state(t_leaves)), (m_leaves[0], state(m_leaves)),
                  t_leaves, m_leaves, rng)


def test_cells_start_from_a_zero_state(rng):
    t_mod, m_mod = _pair("LSTMCell", 3, 4)
    x = rng.standard_normal((2, 3))
    h, c = m_mod(minigrad.tensor(x))
    th, tc = t_mod(torch.tensor(x))
    np.testing.assert_allclose(h.detach().numpy(), th.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c.detach().numpy(), tc.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("kind, kw", [("RNN", {"bidirectional": True}), ("GRU", {"num_layers": 2}),
                                      ("LSTM", {"proj_size": 2, "bidirectional": True})])
def test_gradients_match_finite_differences(kind, kw, rng):
    torch.manual_seed(0)
    _, m_mod = _pair(kind, 2, 3, **kw)
    x = minigrad.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    weight = m_mod.weight_hh_l0
    assert gradcheck(lambda x: m_mod(x)[0], [x])
    assert gradcheck(lambda w: _with_weight(m_mod, "weight_hh_l0", w, x),
                     [minigrad.tensor(weight.detach().numpy().copy(), requires_grad=True)])


def _with_weight(module, name, value, x):
    """The module's output with parameter ``name`` replaced by the tensor ``value`` (so gradcheck can vary it)."""
    old = module._parameters[name]
    module._parameters[name] = value
    try:
        return module(x)[0]
    finally:
        module._parameters[name] = old


def test_parameter_names_shapes_and_order_match_torch():
    t, m = _pair("LSTM", 3, 5, num_layers=2, bidirectional=True, proj_size=2)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    assert m._flat_weights_names == t._flat_weights_names
    assert [[tuple(p.shape) for p in ws] for ws in m.all_weights] == \
           [[tuple(p.shape) for p in ws] for ws in t.all_weights]


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM", "GRUCell"])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden(kind):
    minigrad.manual_seed(0)
    module = getattr(nn, kind)(10, 16) if kind.endswith("Cell") else getattr(nn, kind)(10, 16, num_layers=2)
    bound = 1 / math.sqrt(16)
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    assert values.dtype == np.float32
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.95 * bound  # the whole range is used ...
    assert abs(values.mean()) < 0.05 * bound  # ... symmetrically
    assert abs(values.std() - bound / math.sqrt(3)) < 0.05 * bound


def test_dropout_applies_between_layers_only_while_training():
    minigrad.manual_seed(0)
    gru = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = minigrad.randn(5, 2, 3)
    gru.eval()
    a, b = gru(x)[0], gru(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    gru.train()
    assert not np.allclose(gru(x)[0].detach().numpy(), a.detach().numpy())
    single = nn.GRU(3, 4, num_layers=2, dropout=0.0)
    single.load_state_dict(gru.state_dict())
    np.testing.assert_allclose(single(x)[0].detach().numpy(), a.detach().numpy())


def test_dropout_on_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_flatten_parameters_changes_nothing():
    lstm = nn.LSTM(3, 4)
    before = {k: v.copy() for k, v in ((k, v.detach().numpy()) for k, v in lstm.state_dict().items())}
    assert lstm.flatten_parameters() is None
    assert all(np.array_equal(before[k], v.detach().numpy()) for k, v in lstm.state_dict().items())


@pytest.mark.parametrize("call, match", [
    (lambda: nn.GRU(3, 4)(minigrad.randn(5, 2, 2)), r"input.size\(-1\) must be equal to input_size. Expected 3, got 2"),
    (lambda: nn.GRU(3, 4)(minigrad.randn(5, 2, 3), minigrad.randn(2, 2, 4)), r"Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]"),
    (lambda: nn.LSTM(3, 4)(minigrad.randn(5, 2, 3), (minigrad.randn(1, 2, 4), minigrad.randn(1, 2, 3))),
     r"Expected hidden\[1\] size \(1, 2, 4\), got \[1, 2, 3\]"),
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'"),
    (lambda: nn.RNNBase("GRU", 3, 4, proj_size=2), "proj_size argument is only supported for LSTM"),
    (lambda: nn.LSTM(3, 4, proj_size=4), "proj_size has to be smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), "dropout should be a number in range"),
    (lambda: nn.GRUCell(3, 4)(minigrad.randn(2, 5)), "input has inconsistent input_size: got 5 expected 3"),
    (lambda: nn.GRU(3, 4)(minigrad.randn(2, 5, 2, 3)), "GRU: Expected input to be 2D or 3D, got 4D"),
])
def test_errors_as_torch(call, match):
    with pytest.raises((RuntimeError, ValueError), match=match):
        call()


# -- the packing utilities --------------------------------------------------------------------
@settings(max_examples=15)
@given(lengths=st.lists(st.integers(1, 5), min_size=1, max_size=5), batch_first=st.booleans(),
       enforce_sorted=st.booleans(), extra=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_pack_and_pad_round_trip_as_torch(lengths, batch_first, enforce_sorted, extra, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    steps = max(lengths)
    shape = (len(lengths), steps, 2) if batch_first else (steps, len(lengths), 2)
    t_leaves, m_leaves = _leaves([rng.standard_normal(shape)])
    tp = torch.nn.utils.rnn.pack_padded_sequence(t_leaves[0], lengths, batch_first, enforce_sorted)
    mp = rnn_utils.pack_padded_sequence(m_leaves[0], lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(mp.data.detach().numpy(), tp.data.detach().numpy())
    np.testing.assert_array_equal(mp.batch_sizes.detach().numpy(), tp.batch_sizes.numpy())
    for a, b in ((mp.sorted_indices, tp.sorted_indices), (mp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a.detach().numpy(), b.numpy())
    total = steps + extra
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first, -1.5, total)
    m_pad, m_len = rnn_utils.pad_packed_sequence(mp, batch_first, -1.5, total)
    np.testing.assert_array_equal(m_pad.detach().numpy(), t_pad.detach().numpy())
    np.testing.assert_array_equal(m_len.detach().numpy(), t_len.numpy())
    w = rng.standard_normal(tuple(t_pad.shape))
    (t_pad * torch.tensor(w)).sum().backward()
    (m_pad * minigrad.tensor(w)).sum().backward()
    np.testing.assert_array_equal(m_leaves[0].grad.numpy(), t_leaves[0].grad.numpy())


@settings(max_examples=15)
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4), batch_first=st.booleans(),
       side=st.sampled_from(["left", "right"]), seed=st.integers(0, 2**16))
def test_pad_sequence_and_pack_sequence_as_torch(lengths, batch_first, side, seed):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal((n, 3)) for n in lengths]
    t_leaves, m_leaves = _leaves(values)
    tp = torch.nn.utils.rnn.pad_sequence(t_leaves, batch_first, 7.0, side)
    mp = rnn_utils.pad_sequence(m_leaves, batch_first, 7.0, side)
    np.testing.assert_array_equal(mp.detach().numpy(), tp.detach().numpy())
    w = rng.standard_normal(tuple(tp.shape))
    (tp * torch.tensor(w)).sum().backward()
    (mp * minigrad.tensor(w)).sum().backward()
    for a, b in zip(t_leaves, m_leaves):
        np.testing.assert_array_equal(b.grad.numpy(), a.grad.numpy())
    tpk = torch.nn.utils.rnn.pack_sequence([t.detach() for t in t_leaves], enforce_sorted=False)
    mpk = rnn_utils.pack_sequence([m.detach() for m in m_leaves], enforce_sorted=False)
    np.testing.assert_array_equal(mpk.data.numpy(), tpk.data.numpy())
    back = rnn_utils.unpack_sequence(mpk)
    assert [b.shape[0] for b in back] == lengths
    for b, v in zip(back, values):
        np.testing.assert_array_equal(b.detach().numpy(), v)


def test_pack_padded_sequence_errors_as_torch():
    x = minigrad.randn(3, 2, 1)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [1, 3])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        rnn_utils.pack_padded_sequence(x, [3, 0])
    packed = rnn_utils.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="Expected total_length to be at least"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
