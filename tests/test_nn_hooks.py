"""Module hooks: forward pre-hooks, forward hooks, full backward (pre-)hooks, as PyTorch runs them.

Each scenario runs on both libraries (``lib`` is minigrad or torch) from the same
weights, and what the hooks saw and changed must agree.
"""
import warnings

import numpy as np
import pytest
import torch

import minigrad

LIBS = [minigrad, torch]


def _linear(lib, w=((0.5, -1.0), (2.0, 0.25)), b=(0.1, -0.2)):
    lin = lib.nn.Linear(2, 2)
    with lib.no_grad():
        lin.weight.copy_(lib.tensor(w))
        lin.bias.copy_(lib.tensor(b))
    return lin


def _np(x):
    if x is None:
        return None
    return x.detach().numpy() if hasattr(x, "detach") else x


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x is None or y is None:
            assert x is None and y is None
        elif isinstance(x, (list, tuple)):
            _same(x, y)
        else:
            np.testing.assert_allclose(_np(x), _np(y), rtol=1e-6)


def _both(scenario):
    got, want = scenario(minigrad), scenario(torch)
    _same(got, want)
    return got


def test_forward_pre_hook_replaces_the_inputs_and_a_bare_result_is_one_argument():
    def scenario(lib):
        lin = _linear(lib)
        seen = []
        lin.register_forward_pre_hook(lambda m, args: seen.append(args[0].sum().item()))
        lin.register_forward_pre_hook(lambda m, args: args[0] * 2)          # not a tuple: the one argument
        lin.register_forward_pre_hook(lambda m, args: (args[0] + 1,))
        out = lin(lib.ones(1, 2))
        return [out, seen]

    out, seen = _both(scenario)
    assert seen == [2.0]


def test_forward_hooks_replace_the_output_in_registration_order_and_prepend_goes_first():
    def scenario(lib):
        lin = _linear(lib)
        order = []
        lin.register_forward_hook(lambda m, args, out: order.append("a") or out * 10)
        lin.register_forward_hook(lambda m, args, out: order.append("b"))
        lin.register_forward_hook(lambda m, args, out: order.append("first") or out + 1, prepend=True)
        lin.register_forward_pre_hook(lambda m, args: order.append("pre"))
        out = lin(lib.ones(1, 2))
        return [out, [float(ord(c[0])) for c in order]]

    _both(scenario)


def test_hooks_with_kwargs_see_and_replace_keyword_arguments():
    def scenario(lib):
        class Scale(lib.nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale

        m = Scale()
        seen = []
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": kwargs["scale"] + 1}), with_kwargs=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["scale"]), with_kwargs=True)
        out = m(lib.ones(2), scale=2.0)
        return [out, seen]

    out, seen = _both(scenario)
    assert seen == [3.0]


def test_a_with_kwargs_pre_hook_must_return_args_and_kwargs():
    for lib in LIBS:
        lin = _linear(lib)
        lin.register_forward_pre_hook(lambda m, args, kwargs: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, new_kwargs\), but got 5."):
            lin(lib.ones(1, 2))


def test_handles_remove_their_hook_once_and_work_as_context_managers():
    for lib in LIBS:
        lin = _linear(lib)
        calls = []
        h1 = lin.register_forward_hook(lambda m, a, o: calls.append(1))
        h2 = lin.register_forward_hook(lambda m, a, o: calls.append(2))
        h1.remove()
        h1.remove()   # harmless
        lin(lib.ones(1, 2))
        with h2:
            pass
        lin(lib.ones(1, 2))
        assert calls == [2], lib.__name__
        assert lin(lib.ones(1, 2)).grad_fn.name().startswith("Addmm")


def test_always_call_forward_hooks_run_when_forward_raises():
    for lib in LIBS:
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")

        m = Boom()
        calls = []
        m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)), always_call=True)
        m.register_forward_hook(lambda mod, args, out: calls.append(("normal", out)))
        with pytest.raises(ValueError, match="boom"):
            m(lib.ones(1))
        assert calls == [("always", None)], lib.__name__


def test_hooks_on_submodules_capture_activations_of_a_sequential():
    def scenario(lib):
        lib.manual_seed(0)
        net = lib.nn.Sequential(_linear(lib), lib.nn.ReLU(), _linear(lib, b=(0.0, 0.5)))
        acts = {}
        for name, mod in net.named_children():
            mod.register_forward_hook(lambda m, a, o, name=name: acts.__setitem__(name, o.detach()))
        net(lib.tensor([[1.0, -2.0], [0.5, 0.5]]))
        return [acts["0"], acts["1"], acts["2"]]

    _both(scenario)


def test_full_backward_hook_sees_grad_input_and_grad_output_as_pytorch():
    def scenario(lib):
        lin = _linear(lib)
        seen = []
        lin.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
        x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
        (lin(x) ** 2).sum().backward()
        (gin, gout), = seen
        return [gin, gout, x.grad, lin.weight.grad]

    gin, gout, _, _ = _both(scenario)
    assert len(gin) == 1 and len(gout) == 1


def test_full_backward_hook_result_replaces_the_gradient_flowing_to_the_inputs():
    def scenario(lib):
        inner = _linear(lib)
        inner.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 10,))
        net = lib.nn.Sequential(_linear(lib), inner)
        x = lib.tensor([[1.0, 2.0]], requires_grad=True)
        net(x).sum().backward()
        # The parameters of `inner` keep their true gradient; everything before it is scaled.
        return [x.grad, net[0].weight.grad, inner.weight.grad]

    _both(scenario)


def test_backward_pre_hook_replaces_grad_output_before_the_module_backward():
    def scenario(lib):
        lin = _linear(lib)
        seen = []
        lin.register_full_backward_pre_hook(lambda m, gout: (gout[0] * 0.5,))
        lin.register_full_backward_hook(lambda m, gin, gout: seen.append(gout))
        x = lib.ones(1, 2, requires_grad=True)
        lin(x).sum().backward()
        return [x.grad, lin.weight.grad, seen[0]]

    _both(scenario)


def test_backward_hooks_of_several_outputs_and_inputs_put_none_where_pytorch_does():
    def scenario(lib):
        class Two(lib.nn.Module):
            def forward(self, x, y, k=3):
                return x * 2, y * 3, 5

        m = Two()
        seen = []
        m.register_full_backward_pre_hook(lambda mod, gout: seen.append(("pre", gout)))
        m.register_full_backward_hook(lambda mod, gin, gout: seen.append(("hook", gin, gout)))
        x, y = lib.ones(2, requires_grad=True), lib.ones(2)
        a, b, c = m(x, y)
        assert a.grad_fn.name().startswith("BackwardHookFunctionBackward") and not b.requires_grad and c == 5
        a.sum().backward()
        (_, pre_gout), (_, gin, gout) = seen
        # y needs no gradient: zeros in grad_input; the unused output and the int: None.
        return [pre_gout, gin, gout, x.grad]

    pre_gout, gin, gout, _ = _both(scenario)
    assert pre_gout[1] is None and pre_gout[2] is None and (gin[1].numpy() == 0).all()


def test_full_backward_hook_when_no_input_requires_grad_warns_and_gets_none():
    def scenario(lib):
        lin = _linear(lib)
        seen = []
        lin.register_full_backward_hook(lambda m, gin, gout: seen.append((gin, gout)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lin(lib.ones(1, 2)).sum().backward()
        assert any("Full backward hook is firing" in str(w.message) for w in caught)
        return [seen[0][0], seen[0][1], lin.weight.grad]

    _both(scenario)
    for lib in LIBS:
        lin = _linear(lib)
        lin.register_full_backward_hook(lambda m, gin, gout: (lib.ones(1, 2),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="where no input requires gradient should always return None"):
                lin(lib.ones(1, 2)).sum().backward()


@pytest.mark.parametrize("lib", LIBS, ids=["minigrad", "torch"])
def test_backward_hooks_returning_the_wrong_number_of_gradients_are_errors(lib):
    x = lib.ones(1, 2, requires_grad=True)
    lin = _linear(lib)
    lin.register_full_backward_hook(lambda m, gin, gout: (gin[0], gin[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input, got 2, but expected 1"):
        lin(x).sum().backward()
    lin = _linear(lib)
    lin.register_full_backward_pre_hook(lambda m, gout: (gout[0], gout[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output, got 2, but expected 1"):
        lin(x).sum().backward()


def test_removed_backward_hooks_leave_the_graph_untouched():
    lin = _linear(minigrad)
    h = lin.register_full_backward_hook(lambda m, gin, gout: (gin[0] * 0,))
    h.remove()
    x = minigrad.ones(1, 2, requires_grad=True)
    out = lin(x)
    assert out.grad_fn.name() == "AddmmBackward0"
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.5, -0.75]])


def test_backward_hooks_are_not_wired_without_grad_mode_and_do_not_break_second_order():
    lin = _linear(minigrad)
    calls = []
    lin.register_full_backward_hook(lambda m, gin, gout: calls.append(1))
    with minigrad.no_grad():
        assert lin(minigrad.ones(1, 2, requires_grad=True)).grad_fn is None

    def scenario(lib):
        m = lib.nn.Sequential(_linear(lib), lib.nn.Tanh())
        m[0].register_full_backward_hook(lambda mod, gin, gout: (gin[0] * 3,))
        x = lib.tensor([[0.3, -0.2]], requires_grad=True)
        (g,) = lib.autograd.grad(m(x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return [g, gg]

    _both(scenario)


def test_module_half_and_to_cast_floating_state_only_as_pytorch():
    for lib in LIBS:
        lin = _linear(lib)
        lin.register_buffer("count", lib.tensor([1, 2]))
        p = lin.weight
        assert lin.half() is lin and lin.weight is p
        assert lin.weight.dtype == lib.float16 and lin.count.dtype == lib.int64
        assert lin.to(lib.float64).weight.dtype == lib.float64
        assert lin.to(lib.ones(1, dtype=lib.float32)).weight.dtype == lib.float32
        with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes"):
            lin.to(lib.int64)
        assert lib.tensor([1.0, 2.0]).half().dtype == lib.float16

