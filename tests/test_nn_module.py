"""The Module system: registration, iteration, modes, state dicts, repr, containers, init."""
import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import nn
from minigrad.nn import init


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        self.register_buffer("steps", minigrad.zeros(1))
        self.register_buffer("scratch", minigrad.zeros(3), persistent=False)
        self.scale = 2.0  # a plain attribute, not state

    def forward(self, idx):
        return self.body(self.emb(idx)) * self.scale


def test_parameters_and_submodules_register_by_assignment_in_order():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["emb.weight", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert [n for n, _ in net.named_children()] == ["emb", "body"]
    assert [n for n, _ in net.named_modules()] == ["", "emb", "body", "body.0", "body.1", "body.2"]
    assert len(list(net.modules())) == 6 and len(list(net.children())) == 2
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())


def test_shared_parameters_and_modules_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.modules())) == 2


def test_unknown_attribute_raises_attribute_error_not_none():
    net = Net()
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'embb'"):
        net.embb
    assert not hasattr(net, "weight")


def test_reassigning_and_deleting_keeps_registries_consistent():
    net = Net()
    net.emb = nn.Embedding(3, 4)
    assert net.emb.num_embeddings == 3
    with pytest.raises(TypeError, match="cannot assign"):
        net.body[0].weight = minigrad.zeros(8, 4)
    net.body[0].bias = None
    assert [n for n, _ in net.body[0].named_parameters()] == ["weight"]
    del net.emb
    assert "emb" not in dict(net.named_children())
    with pytest.raises(AttributeError):
        net.emb


def test_assigning_before_init_is_an_error():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minigrad.zeros(2))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_call_runs_forward_and_missing_forward_is_an_error():
    net = Net()
    assert net(minigrad.tensor([[1, 2, 3]])).shape == (1, 3, 2)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_train_eval_propagate_to_all_submodules():
    net = Net()
    assert net.training and net.body[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_to_none_by_default_or_zeros_in_place():
    net = Net()
    net(minigrad.tensor([1, 2])).sum().backward()
    w = net.body[0].weight
    g = w.grad
    net.zero_grad(set_to_none=False)
    assert w.grad is g and (g.numpy() == 0).all()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_and_apply():
    net = Net()
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Embedding", "Linear", "ReLU", "Linear", "Sequential", "Net"]  # children first


def test_apply_with_init_reinitialises_weights():
    net = Net()
    net.apply(lambda m: init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert (net.body[0].weight.detach().numpy() == 0).all()


def test_double_and_float_cast_parameters_and_buffers_in_place():
    net = Net()
    p = net.body[0].weight
    net.double()
    assert net.body[0].weight is p and p.dtype == np.float64 and net.steps.dtype == np.float64
    out = net(minigrad.tensor([1]))
    assert out.dtype == np.float64
    net.float()
    assert p.dtype == np.float32


def test_state_dict_round_trip_and_sharing():
    a, b = Net(), Net()
    sd = a.state_dict()
    # as in torch: a module's own parameters, then its persistent buffers, then its children's
    assert list(sd) == ["steps", "emb.weight", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]
    assert all(not t.requires_grad and t.grad_fn is None for t in sd.values())
    assert np.shares_memory(sd["emb.weight"].detach().numpy(), a.emb.weight.detach().numpy())  # detached, sharing data
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for (n1, t1), (n2, t2) in zip(a.state_dict().items(), b.state_dict().items()):
        assert n1 == n2
        np.testing.assert_array_equal(t1.numpy(), t2.numpy())
    assert not np.shares_memory(b.emb.weight.detach().numpy(), a.emb.weight.detach().numpy())  # copied into b's own arrays
    idx = minigrad.tensor([[3, 4]])
    np.testing.assert_array_equal(a(idx).detach().numpy(), b(idx).detach().numpy())


def test_strict_load_lists_missing_unexpected_and_size_mismatches():
    net = Net()
    sd = net.state_dict()
    del sd["body.0.bias"]
    sd["extra.weight"] = minigrad.zeros(1)
    sd["body.2.weight"] = minigrad.zeros(3, 3)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    msg = str(info.value)
    assert msg.startswith("Error(s) in loading state_dict for Net:")
    assert 'Missing key(s) in state_dict: "body.0.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert (
        "size mismatch for body.2.weight: copying a param with shape torch.Size([3, 3]) from checkpoint, "
        "the shape in current model is torch.Size([2, 8])." in msg
    )


def test_strict_load_message_matches_torch_for_missing_and_unexpected_keys():
    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 2)

    class MNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    bad = {"fc.weight": np.zeros((2, 2), np.float32), "fc.other": np.zeros(1, np.float32)}
    with pytest.raises(RuntimeError) as t_info:
        TNet().load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as m_info:
        MNet().load_state_dict({k: minigrad.tensor(v) for k, v in bad.items()})
    assert str(m_info.value).replace("MNet", "TNet") == str(t_info.value)


def test_non_strict_load_reports_keys_but_still_rejects_wrong_shapes():
    net = Net()
    sd = net.state_dict()
    del sd["steps"]
    result = nn.Linear(4, 8).load_state_dict({"weight": sd["body.0.weight"]}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == []
    with pytest.raises(RuntimeError, match="size mismatch"):
        nn.Linear(3, 8).load_state_dict({"weight": sd["body.0.weight"]}, strict=False)


def test_load_state_dict_bumps_versions_and_keeps_parameter_objects():
    lin = nn.Linear(2, 2)
    w = lin.weight
    lin.load_state_dict(nn.Linear(2, 2).state_dict())
    assert lin.weight is w and w._version >= 1


def test_repr_matches_torch_for_sequential_of_linear_relu_embedding():
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Embedding(10, 3, padding_idx=0), nn.Linear(4, 2, bias=False))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Embedding(10, 3, padding_idx=0), torch.nn.Linear(4, 2, bias=False)
    )
    assert repr(ours) == repr(theirs)


def test_nested_repr_matches_torch():
    def build(lib):
        n = lib.nn
        return n.Sequential(
            OrderedDict(
                encoder=n.Sequential(n.Embedding(5, 2), n.Flatten(), n.Dropout(0.1)),
                act=n.ModuleList([n.GELU(), n.LeakyReLU(0.2), n.Softmax(dim=1), n.LogSoftmax(dim=-1)]),
                heads=n.ModuleDict({"a": n.Identity(), "b": n.LayerNorm(4)}),
                out=n.Sigmoid(),
                t=n.Tanh(),
            )
        )

    assert repr(build(minigrad)) == repr(build(torch))


def test_loss_module_reprs_match_torch():
    for name in ["MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss"]:
        assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())


def test_sequential_indexing_slicing_and_append():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.Linear)
    assert len(seq[1:]) == 2 and isinstance(seq[1:][0], nn.ReLU)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [n for n, _ in seq.named_children()][-1] == "3"
    with pytest.raises(IndexError):
        seq[4]
    assert seq(minigrad.randn(5, 2)).shape == (5, 1)


def test_module_list_and_dict_register_their_parameters():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.Linear(2, 1))
    assert len(list(ml.parameters())) == 8 and len(ml) == 4
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    md["b"] = nn.Linear(1, 2)
    assert list(md.keys()) == ["a", "b"] and "b" in md
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]


def test_identity_and_flatten():
    x = minigrad.randn(2, 3, 4)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)


def test_parameter_is_a_leaf_tensor_that_requires_grad_and_shares_data():
    arr = np.ones(3, dtype=np.float32)
    p = nn.Parameter(arr)
    assert p.requires_grad and p.is_leaf and np.shares_memory(p.detach().numpy(), arr)
    assert isinstance(p, minigrad.Tensor)
    assert not nn.Parameter(arr, requires_grad=False).requires_grad


# -- Linear ------------------------------------------------------------------------------------
@given(st.integers(0, 6), st.integers(1, 6), st.booleans(), st.integers(0, 2**31 - 1))
def test_linear_matches_torch_with_the_same_parameters(fin, fout, bias, seed):
    rng = np.random.default_rng(seed)
    lin = nn.Linear(fin, fout, bias=bias).double()
    tlin = torch.nn.Linear(fin, fout, bias=bias).double()
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(lin.weight.detach().numpy()))
        if bias:
            tlin.bias.copy_(torch.from_numpy(lin.bias.detach().numpy()))
    x = rng.standard_normal((3, 2, fin))
    cot = rng.standard_normal((3, 2, fout))
    mx = minigrad.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    out, tout = lin(mx), tlin(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.backward(minigrad.tensor(cot))
    tout.backward(torch.from_numpy(cot))
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), tlin.weight.grad.numpy(), rtol=1e-12, atol=1e-12)
    if bias:
        np.testing.assert_allclose(lin.bias.grad.numpy(), tlin.bias.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_linear_init_bounds_are_one_over_sqrt_fan_in():
    minigrad.manual_seed(0)
    lin = nn.Linear(16, 500)
    bound = 1 / math.sqrt(16)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (500, 16)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01  # uniform: std = bound/√3
    empty = nn.Linear(0, 3)
    assert (empty.bias.detach().numpy() == 0).all()


def test_linear_1d_input_and_shape_errors():
    lin = nn.Linear(3, 2)
    assert lin(minigrad.randn(3)).shape == (2,)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)"):
        lin(minigrad.randn(4, 5))


# -- init ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
                    ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]
)
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (2, 3, 4, 5)])
def test_fan_in_and_fan_out_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(minigrad.zeros(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(minigrad.zeros(3))


@pytest.mark.parametrize(
    "fn, kwargs, std",
    [
        ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
        ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
        ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(300) / math.sqrt(3)),  # U(±1/√fan_in)
        ("kaiming_normal_", {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(300)),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
        ("normal_", {"std": 0.5}, 0.5),
        ("uniform_", {"a": -1.0, "b": 1.0}, 1 / math.sqrt(3)),
    ],
)
def test_init_distributions_have_pytorchs_scale(fn, kwargs, std):
    minigrad.manual_seed(0)
    w = nn.Parameter(np.zeros((200, 300), dtype=np.float32))
    out = getattr(init, fn)(w, **kwargs)
    assert out is w and w.dtype == np.float32 and w.requires_grad
    assert abs(w.detach().numpy().std() - std) < 0.03 * std
    tw = torch.empty(200, 300)
    getattr(torch.nn.init, fn)(tw, **kwargs)
    assert abs(tw.std().item() - std) < 0.03 * std


def test_init_is_reproducible_and_constant_fills():
    w = minigrad.zeros(3, 3)
    minigrad.manual_seed(3)
    a = init.normal_(w).numpy().copy()
    minigrad.manual_seed(3)
    np.testing.assert_array_equal(init.normal_(w).numpy(), a)
    assert (init.constant_(w, 0.25).numpy() == 0.25).all()
    assert (init.ones_(w).numpy() == 1).all() and (init.zeros_(w).numpy() == 0).all()
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("softplus")


# -- ParameterList / ParameterDict ------------------------------------------------------------
def _containers(lib):
    class Mixture(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.scales = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)) for _ in range(2)])
            self.scales.append(lib.zeros(2, 3, dtype=lib.float64))   # a tensor becomes a Parameter
            self.scales.append(3.0)                                    # anything else is kept as is
            self.named = lib.nn.ParameterDict({"shift": lib.zeros(2), "gain": lib.nn.Parameter(lib.ones(1))})

        def forward(self, x):
            return x * self.scales[0] * self.scales[1] * self.named["gain"] + self.named["shift"]

    return Mixture()


def test_parameter_containers_register_like_torch_and_print_as_torch():
    ours, theirs = _containers(minigrad), _containers(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == [
        "scales.0", "scales.1", "scales.2", "named.gain", "named.shift"]   # a plain dict is taken sorted
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.scales[2], nn.Parameter) and ours.scales[2].dtype == np.float64
    assert ours.scales[3] == 3.0 and len(ours.scales) == len(theirs.scales) == 4
    assert repr(ours) == repr(theirs).replace("torch.", "minigrad.")
    assert list(ours.named.keys()) == ["gain", "shift"] and "gain" in ours.named
    assert [type(p).__name__ for p in ours.scales[1:3]] == ["Parameter", "Parameter"]


def test_parameter_containers_train_load_and_copy_their_state():
    model = _containers(minigrad)
    opt = minigrad.optim.SGD(model.parameters(), lr=0.5)
    model(minigrad.ones(2)).sum().backward()
    opt.step()
    assert model.named["shift"].detach().numpy().tolist() == [-0.5, -0.5]
    fresh = _containers(minigrad)
    fresh.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(fresh.named["shift"].detach().numpy(), [-0.5, -0.5])
    np.testing.assert_array_equal(fresh.scales[0].detach().numpy(), model.scales[0].detach().numpy())


def test_parameter_list_and_dict_behave_as_list_and_dict():
    for lib in (minigrad, torch):
        ps = lib.nn.ParameterList([lib.ones(1), lib.ones(2)])
        ps[0] = lib.zeros(3)
        assert ps[0].shape == (3,) and ps[-1].shape == (2,) and len(ps[0:1]) == 1
        assert [tuple(p.shape) for p in ps] == [(3,), (2,)]
        ps += [lib.ones(4)]
        assert len(ps) == 3
        with pytest.raises(IndexError, match="index 3 is out of range"):
            ps[3]
        with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
            ps.extend(lib.ones(2))
        with pytest.raises(RuntimeError, match="ParameterList should not be called."):
            ps(1)
        pd = lib.nn.ParameterDict([("b", lib.ones(1)), ("a", lib.ones(2))])   # pairs keep their order
        assert list(pd) == ["b", "a"] and list(reversed(pd)) == ["a", "b"]
        assert pd.pop("b").shape == (1,) and list(pd.keys()) == ["a"]
        pd.update({"z": lib.ones(1), "c": lib.ones(1)})
        assert list(pd) == ["a", "c", "z"]
        assert pd.get("missing") is None and pd.setdefault("d", lib.ones(5)).shape == (5,)
        assert list((pd | lib.nn.ParameterDict({"e": lib.ones(1)})).keys()) == ["a", "c", "z", "d", "e"]
        assert pd.popitem()[0] == "d"
        with pytest.raises(TypeError, match="Index given to ParameterDict cannot be used as a key as it is not a string"):
            pd[0]
        with pytest.raises(ValueError, match="ParameterDict update sequence element #0 has length 1; 2 is required"):
            pd.update([("x",)])
        pd.clear()
        assert len(pd) == 0 and list(pd.parameters()) == []


def test_get_parameter_and_get_buffer_follow_dotted_paths_with_torchs_errors():
    for lib in (minigrad, torch):
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
        assert net.get_parameter("0.weight") is net[0].weight
        assert net.get_buffer("1.running_mean") is net[1].running_mean
        with pytest.raises(AttributeError, match="Linear has no attribute `nope`"):
            net.get_parameter("0.nope")
        with pytest.raises(AttributeError, match="`running_var` is not an nn.Parameter"):
            net.get_parameter("1.running_var")
        with pytest.raises(AttributeError, match="`weight` is not a buffer"):
            net.get_buffer("0.weight")
