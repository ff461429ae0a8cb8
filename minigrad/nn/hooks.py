"""The backward hooks of a :class:`~minigrad.nn.Module`: ``register_full_backward_hook`` and its pre-hook.

A module is many ops, so there is no single node whose gradients are "the
module's". As in PyTorch, the call wraps the boundary instead: the positional
input tensors pass through one identity node on the way in, the output tensors
through another on the way out. In backward, the outer node sees the gradients
of the outputs first (``grad_output``; the pre-hooks run there and may replace
them); the inner node sees the gradients of the inputs last (``grad_input``;
the hooks run there, with the stored ``grad_output``, and may replace them).
"""
from __future__ import annotations

import warnings

from minigrad.autograd import Function, is_grad_enabled
from minigrad.tensor import Tensor


class BackwardHookFunction(Function):
    """y₁, …, yₙ = x₁, …, xₙ; the gradients pass through, after ``state.on_grads(grads)`` has seen them.

    ``on_grads`` may return replacements (a tuple of the same length). The node
    gets PyTorch's name, ``BackwardHookFunctionBackward``.
    """

    @staticmethod
    def forward(ctx, on_grads, materialize, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(materialize)
        ctx.mark_non_differentiable(*[t for t in tensors if not t.requires_grad])
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.on_grads(grads))


class BackwardHook:
    """One module call's backward hooks: wraps its inputs and outputs, and calls the hooks in backward."""

    def __init__(self, module, hooks, pre_hooks) -> None:
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.grad_outputs = None
        self.n_inputs = 0
        self.input_index = None   # positions of the input tensors, None if none requires grad
        self.n_outputs = 0
        self.output_index = None

    @staticmethod
    def _wrap(values, on_grads, materialize):
        """``values`` with its tensors passed through a BackwardHookFunction; and their positions."""
        index = [k for k, v in enumerate(values) if isinstance(v, Tensor)]
        if not (is_grad_enabled() and any(values[k].requires_grad for k in index)):
            return values, None
        passed = BackwardHookFunction.apply(on_grads, materialize, *[values[k] for k in index])
        out = list(values)
        for k, t in zip(index, passed):
            out[k] = t
        # A named tuple is rebuilt field by field, a plain tuple from the list.
        return (tuple(out) if type(values) is tuple else type(values)(*out)), index

    @staticmethod
    def _pack(index, grads, n):
        """One entry per position, ``None`` where there is no tensor."""
        packed = [None] * n
        for k, g in zip(index, grads):
            packed[k] = g
        return tuple(packed)

    def setup_input_hook(self, args: tuple) -> tuple:
        self.n_inputs = len(args)
        # Materialized: an input that needs no gradient shows as zeros in grad_input, as in PyTorch.
        args, self.input_index = self._wrap(args, self._on_input_grads, True)
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        if single and not isinstance(result, Tensor):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                f"but received {type(result)}", stacklevel=3,
            )
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        outputs, self.output_index = self._wrap(outputs, self._on_output_grads, False)
        return outputs[0] if single else outputs

    def _on_output_grads(self, grads):
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            new = hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError(
                    "Backward pre hook returned an invalid number of grad_output, "
                    f"got {len(new)}, but expected {len(self.grad_outputs)}"
                )
            self.grad_outputs = tuple(new)
        grad_outputs = self.grad_outputs
        if self.input_index is None:
            # No input requires grad, so the input node never runs: the hooks run here.
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to module outputs "
                "since no inputs require gradients.", stacklevel=2,
            )
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(g is None for g in res)):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should always return None "
                        "or None for all gradients."
                    )
            self.grad_outputs = None
        return tuple(grad_outputs[k] for k in self.output_index)

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs
            # (e.g. differentiating a gradient again): nothing to report.
            return grads
        grad_inputs = self._pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(grad_inputs):
                raise RuntimeError(
                    f"Backward hook returned an invalid number of grad_input, got {len(new)}, but expected "
                    f"{len(grad_inputs)}"
                )
            grad_inputs = tuple(new)
        self.grad_outputs = None
        return tuple(grad_inputs[k] for k in self.input_index)
