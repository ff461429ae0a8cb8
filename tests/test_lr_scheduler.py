"""Learning-rate schedulers: the lr sequence, step semantics and state dicts against PyTorch."""
import copy
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import minigrad.optim as optim
from minigrad.nn.parameter import Parameter
from minigrad.optim import lr_scheduler as mls

EPOCHS = 40


def _pair(lrs=(0.1, 0.03)):
    """Two-group optimizers (minigrad, torch) with the given base rates."""
    mg = optim.SGD([{"params": [Parameter(np.ones(1))], "lr": lr} for lr in lrs])
    tt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.ones(1))], "lr": lr} for lr in lrs])
    return mg, tt


def _sequence(opt, sched, epochs=EPOCHS):
    out = [list(sched.get_last_lr())]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append(list(sched.get_last_lr()))
        assert out[-1] == [g["lr"] for g in opt.param_groups]
    return out


def _compare(make_mg, make_torch, lrs=(0.1, 0.03)):
    mg, tt = _pair(lrs)
    ms, ts = make_mg(mg), make_torch(tt)
    a, b = _sequence(mg, ms), _sequence(tt, ts)
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)
    assert ms.last_epoch == ts.last_epoch == EPOCHS


@given(step_size=st.integers(1, 10), gamma=st.floats(0.05, 1.0))
def test_step_lr_matches_torch(step_size, gamma):
    _compare(lambda o: mls.StepLR(o, step_size, gamma), lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma))


@given(milestones=st.lists(st.integers(1, EPOCHS), max_size=5), gamma=st.floats(0.05, 1.0))
def test_multistep_lr_matches_torch_including_repeated_milestones(milestones, gamma):
    _compare(lambda o: mls.MultiStepLR(o, milestones, gamma),
             lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma))


@given(gamma=st.floats(0.5, 1.0))
def test_exponential_lr_matches_torch(gamma):
    _compare(lambda o: mls.ExponentialLR(o, gamma), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma))


@given(t_max=st.integers(1, 15), eta_min=st.sampled_from([0.0, 1e-3, 0.01]))
def test_cosine_annealing_matches_torch_and_keeps_oscillating(t_max, eta_min):
    _compare(lambda o: mls.CosineAnnealingLR(o, t_max, eta_min),
             lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min))


def test_cosine_annealing_closed_form_at_each_epoch():
    opt, _ = _pair((0.1,))
    sched = mls.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    seq = _sequence(opt, sched, 30)
    for t, (lr,) in enumerate(seq):
        assert math.isclose(lr, 0.001 + 0.5 * (0.1 - 0.001) * (1 + math.cos(math.pi * t / 10)), rel_tol=1e-9, abs_tol=1e-15)


@given(start=st.floats(0.01, 1.0), end=st.floats(0.0, 1.0), total=st.integers(1, 20))
def test_linear_lr_matches_torch(start, end, total):
    _compare(lambda o: mls.LinearLR(o, start, end, total), lambda o: torch.optim.lr_scheduler.LinearLR(o, start, end, total))


def test_lambda_lr_matches_torch_with_one_lambda_per_group():
    fns = [lambda e: 0.95 ** e, lambda e: 1.0 / (1 + e)]
    _compare(lambda o: mls.LambdaLR(o, fns), lambda o: torch.optim.lr_scheduler.LambdaLR(o, fns))
    mg, _ = _pair()
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        mls.LambdaLR(mg, [lambda e: 1.0])


def test_construction_performs_the_initial_step():
    opt, _ = _pair((0.1,))
    sched = mls.LinearLR(opt, start_factor=0.5, total_iters=4)
    assert sched.last_epoch == 0
    assert opt.param_groups[0]["lr"] == 0.05 and sched.get_last_lr() == [0.05]
    assert opt.param_groups[0]["initial_lr"] == 0.1 and sched.base_lrs == [0.1]


def test_scheduler_step_before_optimizer_step_warns():
    opt, _ = _pair()
    sched = mls.StepLR(opt, 1)
    with pytest.warns(UserWarning, match=r"Detected call of `lr_scheduler.step\(\)` before `optimizer.step\(\)`"):
        sched.step()
    opt2, _ = _pair()
    sched2 = mls.StepLR(opt2, 1)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_resuming_needs_initial_lr_in_every_group():
    opt, _ = _pair()
    with pytest.raises(KeyError, match="initial_lr"):
        mls.StepLR(opt, 2, last_epoch=5)


def test_invalid_linear_factors_raise():
    opt, _ = _pair()
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        mls.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        mls.LinearLR(opt, end_factor=1.5)


def test_epoch_argument_uses_the_closed_form_with_a_deprecation_warning():
    opt, tt = _pair()
    ms, ts = mls.StepLR(opt, 3, 0.5), torch.optim.lr_scheduler.StepLR(tt, 3, 0.5)
    opt.step()
    tt.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        ms.step(7)
    with pytest.warns(UserWarning):
        ts.step(7)
    assert ms.get_last_lr() == ts.get_last_lr()


@pytest.mark.parametrize("make", [
    lambda o: mls.StepLR(o, 3, 0.5), lambda o: mls.MultiStepLR(o, [2, 5, 5, 9], 0.5),
    lambda o: mls.ExponentialLR(o, 0.9), lambda o: mls.CosineAnnealingLR(o, 7, 0.001),
    lambda o: mls.LinearLR(o, 0.2, 1.0, 6), lambda o: mls.LambdaLR(o, lambda e: 0.9 ** e),
])
def test_state_dict_restores_the_schedule(make):
    opt, _ = _pair()
    sched = make(opt)
    first = _sequence(opt, sched, 5)
    sd = copy.deepcopy(sched.state_dict())
    opt_sd = copy.deepcopy(opt.state_dict())
    assert "optimizer" not in sd and sd["last_epoch"] == 5
    rest = _sequence(opt, sched, 10)

    opt2, _ = _pair()
    sched2 = make(opt2)
    opt2.load_state_dict(opt_sd)  # the current rates live in the optimizer's groups
    sched2.load_state_dict(sd)
    resumed = _sequence(opt2, sched2, 10)
    np.testing.assert_allclose(resumed, rest, rtol=1e-13, atol=0)
