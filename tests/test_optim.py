"""Optimizers on dense gradients: trajectories, state and errors against PyTorch 2.13.

Each parity test starts a minigrad and a PyTorch parameter set from the same
values, computes the gradient of the same loss with each library's autograd,
and steps both optimizers (PyTorch's single-tensor path, ``foreach=False``) for
20+ steps; parameters and optimizer state must agree to float64 rounding.
"""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad
import minigrad.optim as optim
from minigrad.nn.parameter import Parameter

STEPS = 22
# float64 trajectories: the update rules are identical, but 20+ steps of a chaotic
# iteration amplify last-bit differences in operation order (seen up to 2e-9 relative).
RTOL, ATOL = 1e-7, 1e-10

lrs = st.floats(1e-3, 0.3)
unit = st.floats(0.0, 0.95)
decays = st.sampled_from([0.0]) | st.floats(1e-4, 0.2)
betas = st.tuples(st.floats(0.0, 0.99), st.floats(0.0, 0.9999))


def _problem(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    targets = [rng.normal(size=s).astype(dtype) for s in shapes]
    scales = [rng.uniform(0.2, 3.0, size=s).astype(dtype) for s in shapes]
    return start, targets, scales


def _loss_mg(params, targets, scales, sign=1.0):
    total = None
    for p, t, c in zip(params, targets, scales):
        # A quadratic plus a tanh term, so the gradient is not linear in the parameters.
        term = (((p - minigrad.tensor(t)) ** 2) * minigrad.tensor(c)).sum() + p.tanh().sum() * 0.5
        total = term if total is None else total + term
    return total * sign


def _loss_torch(params, targets, scales, sign=1.0):
    total = 0
    for p, t, c in zip(params, targets, scales):
        total = total + (((p - torch.from_numpy(t)) ** 2) * torch.from_numpy(c)).sum() + torch.tanh(p).sum() * 0.5
    return total * sign


def _run_both(name, kwargs, seed=0, steps=STEPS, groups=True, torch_extra=None):
    """Step minigrad's and torch's ``name`` side by side; return both optimizers and params."""
    start, targets, scales = _problem(seed)
    mps = [Parameter(s.copy()) for s in start]
    tps = [torch.nn.Parameter(torch.from_numpy(s.copy())) for s in start]
    if groups:
        # Two groups: the second overrides lr, so per-group options are exercised too.
        lr2 = kwargs.get("lr", 1e-2) * 0.5
        mg_params = [{"params": [mps[0]]}, {"params": [mps[1]], "lr": lr2}]
        t_params = [{"params": [tps[0]]}, {"params": [tps[1]], "lr": lr2}]
    else:
        mg_params, t_params = mps, tps
    mopt = getattr(optim, name)(mg_params, **kwargs)
    topt = getattr(torch.optim, name)(t_params, **kwargs, **(torch_extra if torch_extra is not None else {"foreach": False}))
    # maximize ascends, so it gets the negated loss: both runs then converge and stay finite.
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step in range(steps):
        mopt.zero_grad()
        _loss_mg(mps, targets, scales, sign).backward()
        mopt.step()
        topt.zero_grad()
        _loss_torch(tps, targets, scales, sign).backward()
        topt.step()
        for mp, tp in zip(mps, tps):
            assert np.all(np.isfinite(mp.detach().numpy()))
            np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg=f"step {step}")
    _assert_same_state(mopt, topt)
    return mopt, topt


def _assert_same_state(mopt, topt):
    msd, tsd = mopt.state_dict(), topt.state_dict()
    assert set(msd["state"]) == set(tsd["state"])
    for k, tstate in tsd["state"].items():
        mstate = msd["state"][k]
        assert set(mstate) == set(tstate), (set(mstate), set(tstate))
        for key, tv in tstate.items():
            mv = mstate[key]
            if isinstance(tv, torch.Tensor):
                np.testing.assert_allclose(np.asarray(mv.detach().numpy()), tv.numpy(), rtol=RTOL, atol=ATOL, err_msg=key)
            else:
                assert mv == tv, key
    for mg, tg in zip(msd["param_groups"], tsd["param_groups"]):
        for key, value in mg.items():
            assert tg[key] == value, key


# -- trajectories ------------------------------------------------------------------------
@given(lr=lrs, momentum=st.sampled_from([0.0]) | unit, dampening=unit, nesterov=st.booleans(),
       weight_decay=decays, maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_sgd_trajectory_matches_torch(lr, momentum, dampening, nesterov, weight_decay, maximize, seed):
    if nesterov:
        momentum, dampening = max(momentum, 0.1), 0.0
    _run_both("SGD", dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                          weight_decay=weight_decay, maximize=maximize), seed)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@given(lr=lrs, betas=betas, eps=st.sampled_from([1e-8, 1e-3]), weight_decay=decays, amsgrad=st.booleans(),
       maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_adam_and_adamw_trajectories_match_torch(name, lr, betas, eps, weight_decay, amsgrad, maximize, seed):
    _run_both(name, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize), seed)


@given(lr=lrs, lr_decay=st.sampled_from([0.0]) | st.floats(1e-3, 0.5), weight_decay=decays,
       initial_accumulator_value=st.sampled_from([0.0]) | st.floats(0.01, 2.0),
       eps=st.sampled_from([1e-10, 1e-3]), maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_adagrad_trajectory_matches_torch(lr, lr_decay, weight_decay, initial_accumulator_value, eps, maximize, seed):
    _run_both("Adagrad", dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps,
                              maximize=maximize), seed)


@given(lr=st.floats(1e-3, 0.05), alpha=st.floats(0.5, 0.999), eps=st.sampled_from([1e-8, 1e-3]),
       weight_decay=decays, momentum=st.sampled_from([0.0]) | unit, centered=st.booleans(),
       maximize=st.booleans(), seed=st.integers(0, 2**16))
def test_rmsprop_trajectory_matches_torch(lr, alpha, eps, weight_decay, momentum, centered, maximize, seed):
    _run_both("RMSprop", dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                              centered=centered, maximize=maximize), seed)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad", "RMSprop"])
def test_defaults_match_torch(name):
    """Built with no options, each optimizer has PyTorch 2.13's defaults and trajectory."""
    mopt, topt = _run_both(name, {}, seed=1, groups=False)
    tgroup = topt.param_groups[0]
    for key, value in mopt.param_groups[0].items():
        if key != "params":
            assert tgroup[key] == value, key


def test_first_sgd_momentum_buffer_is_the_raw_gradient():
    p = Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = minigrad.tensor(np.array([3.0, -4.0]))
    opt.step()
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].detach().numpy(), [3.0, -4.0])
    assert not np.shares_memory(opt.state[p]["momentum_buffer"].numpy(), p.grad.numpy())


def test_adam_adds_eps_after_the_bias_corrected_square_root():
    # One step from zero state: m̂ = g, v̂ = g², update = lr·g/(|g| + eps) exactly.
    g, eps, lr = np.array([1e-6, 2.0]), 1e-3, 0.1
    p = Parameter(np.zeros(2))
    opt = optim.Adam([p], lr=lr, eps=eps)
    p.grad = minigrad.tensor(g)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), -lr * g / (np.abs(g) + eps), rtol=1e-12)


def test_adamw_decays_the_parameter_before_the_moment_update():
    p = Parameter(np.array([2.0]))
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = minigrad.tensor(np.array([0.0]))
    opt.step()
    # Zero gradient: only the decoupled decay moves θ (Adam would add λθ to the gradient instead).
    np.testing.assert_allclose(p.detach().numpy(), [2.0 * (1 - 0.1 * 0.5)], rtol=1e-15)
    np.testing.assert_array_equal(opt.state[p]["exp_avg"].detach().numpy(), [0.0])


# -- base-class behaviour -------------------------------------------------------------------
def test_step_skips_parameters_without_grad_and_bumps_the_version_of_the_others():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=0.5)
    a.grad = minigrad.tensor(np.ones(2))
    va, vb = a._version, b._version
    opt.step()
    np.testing.assert_array_equal(a.detach().numpy(), [0.5, 0.5])
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert a._version == va + 1 and b._version == vb


def test_an_update_invalidates_graphs_that_saved_the_parameter():
    p = Parameter(np.array([1.0, 2.0]))
    opt = optim.SGD([p], lr=0.1)
    y = (p * p).sum()  # mul saves p
    p.grad = minigrad.tensor(np.ones(2))
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


class _SignDescent(optim.Optimizer):
    """A new optimizer written the way the base class asks: one parameter's update, nothing else."""

    def __init__(self, params, lr=0.5):
        super().__init__(params, dict(lr=lr))

    def _update(self, p, grad, group):
        self.state[p]["calls"] = self.state[p].get("calls", 0) + 1
        p.data.sub_(group["lr"] * np.sign(grad))


def test_an_optimizer_that_writes_only_update_gets_the_loop_closure_and_version_bumps():
    a, b = Parameter(np.array([1.0, -1.0])), Parameter(np.array([2.0]))
    opt = _SignDescent([{"params": [a]}, {"params": [b], "lr": 0.25}])
    va, vb = a._version, b._version

    def closure():
        assert minigrad.is_grad_enabled()
        a.grad = minigrad.tensor(np.array([3.0, -3.0]))
        return "loss"

    assert opt.step(closure) == "loss"
    np.testing.assert_array_equal(a.detach().numpy(), [0.5, -0.5])
    np.testing.assert_array_equal(b.detach().numpy(), [2.0])  # no gradient: skipped
    assert (a._version, b._version) == (va + 1, vb)
    assert opt.state[a] == {"calls": 1} and b not in opt.state
    b.grad = minigrad.tensor(np.array([1.0]))
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), [1.75])  # the group's own lr
    assert b._version == vb + 1


def test_an_optimizer_without_an_update_rule_says_what_is_missing():
    p = Parameter(np.ones(2))
    p.grad = minigrad.tensor(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"Optimizer does not implement _update\(p, grad, group\)"):
        optim.Optimizer([p], {}).step()


def test_zero_grad_sets_none_by_default_and_zeros_when_asked():
    p = Parameter(np.ones(3))
    opt = optim.SGD([p])
    p.grad = minigrad.tensor(np.ones(3))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


def test_step_returns_the_closure_loss_evaluated_with_grad_enabled():
    p = Parameter(np.array([3.0]))
    opt = optim.SGD([p], lr=0.1)

    def closure():
        assert minigrad.is_grad_enabled()
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with minigrad.no_grad():
        loss = opt.step(closure)
    assert float(loss.detach().numpy()) == 9.0
    np.testing.assert_allclose(p.detach().numpy(), [3.0 - 0.1 * 6.0])


def test_param_groups_fill_defaults_and_add_param_group_checks_overlap():
    a, b, c = Parameter(np.ones(1)), Parameter(np.ones(1)), Parameter(np.ones(1))
    opt = optim.Adam([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, weight_decay=0.01)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["weight_decay"] == 0.01 and opt.param_groups[1]["params"] == [b]
    opt.add_param_group({"params": [c], "betas": (0.5, 0.6)})
    assert opt.param_groups[2]["betas"] == (0.5, 0.6) and opt.param_groups[2]["lr"] == 0.1
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {Parameter(np.ones(1))}})


def test_construction_errors_match_torch():
    p = Parameter(np.ones(1))
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(p)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([np.ones(1)])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2])


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=-1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1)), ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1)),
    ("AdamW", dict(lr=-0.1)), ("AdamW", dict(betas=(0.9, 1.0))),
    ("Adagrad", dict(lr=-1)), ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(weight_decay=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("RMSprop", dict(lr=-1)), ("RMSprop", dict(eps=-1)), ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)), ("RMSprop", dict(alpha=-1)),
    ("SparseAdam", dict(lr=0.0)), ("SparseAdam", dict(eps=0.0)), ("SparseAdam", dict(betas=(0.9, 1.5))),
])
def test_invalid_options_raise_torchs_error(name, kwargs):
    tp = torch.nn.Parameter(torch.ones(1))
    with pytest.raises(ValueError) as expected:
        getattr(torch.optim, name)([tp], **kwargs)
    with pytest.raises(ValueError) as got:
        getattr(optim, name)([Parameter(np.ones(1))], **kwargs)
    assert str(got.value) == str(expected.value)


# -- state dicts --------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)), ("AdamW", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
])
def test_state_dict_round_trip_resumes_the_same_trajectory(name, kwargs):
    start, targets, scales = _problem(3)
    ref = [Parameter(s.copy()) for s in start]
    ref_opt = getattr(optim, name)(ref, **kwargs)
    for _ in range(10):
        ref_opt.zero_grad()
        _loss_mg(ref, targets, scales).backward()
        ref_opt.step()
    sd = ref_opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert all(isinstance(k, int) for k in sd["state"])
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1]]

    clone = [Parameter(p.detach().numpy().copy()) for p in ref]
    clone_opt = getattr(optim, name)(clone, **kwargs)
    clone_opt.load_state_dict(sd)
    for _ in range(10):
        for params, opt in ((ref, ref_opt), (clone, clone_opt)):
            opt.zero_grad()
            _loss_mg(params, targets, scales).backward()
            opt.step()
    for a, b in zip(ref, clone):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_copies_and_rejects_mismatched_groups():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    a.grad = minigrad.tensor(np.ones(2))
    opt.step()
    sd = opt.state_dict()
    other = optim.SGD([b], lr=0.1, momentum=0.9)
    other.load_state_dict(sd)
    assert other.state[b]["momentum_buffer"] is not opt.state[a]["momentum_buffer"]
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a, b]).load_state_dict(sd)


def test_float32_parameters_step_in_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigrad.tensor(np.ones(3, dtype=np.float32))
    opt.step()
    assert p.detach().numpy().dtype == np.float32 and opt.state[p]["exp_avg"].dtype == np.float32
