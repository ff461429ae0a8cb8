"""``Optimizer``: the bookkeeping every update rule shares.

An optimizer holds *parameter groups* (each a dict: a list of parameters plus
that group's options, defaults filled in) and a per-parameter *state* (a dict
keyed by the parameter itself: momentum buffers, moment estimates, step
counts).

:meth:`Optimizer.step` is a template method: it runs the closure, walks the
groups, checks the gradients' layout (dense or row-sparse) against what the
update rule accepts, and after each parameter's update bumps that parameter's
version counter. A subclass writes only the update of one parameter,
:meth:`Optimizer._update`. Every update works on the parameter's NumPy array in
place - no operation is recorded, which is what ``torch.no_grad()`` gives
PyTorch's optimizers - and the version bump makes a graph that saved ``p``
before the update refuse to backpropagate through the stale value.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from minigrad.autograd import enable_grad
from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option that has no default and must be given (e.g. SGD's lr in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable of Tensor or iterable of dict
        The parameters to optimize, or a list of parameter groups: dicts with a
        ``"params"`` entry and any options that override ``defaults`` for that
        group.
    defaults : dict
        The option values used by groups that do not set them.

    Attributes
    ----------
    param_groups : list of dict
        One dict per group: ``"params"`` (a list of tensors) and every option.
    state : defaultdict(dict)
        Per-parameter state, keyed by the parameter tensor.

    Notes
    -----
    To write an optimizer, subclass ``Optimizer``, pass the options' defaults
    to ``__init__`` and implement ``_update(p, grad, group)``: change ``p`` in
    place (through ``p.data``, outside the graph) from ``grad`` (``p.grad``'s
    NumPy array, or the :class:`~minigrad.sparse.SparseTensor` itself when the optimizer accepts
    row-sparse gradients), keeping whatever it needs across steps in
    ``self.state[p]``. :meth:`step` does the rest: it runs the closure, skips
    parameters without a gradient, checks every gradient's layout before
    changing anything, and bumps each updated parameter's version. The class
    attribute ``_sparse_grads`` says which layouts ``_update`` receives:
    ``"dense"`` (the default; a row-sparse gradient raises ``_layout_error``,
    e.g. "Adam does not support sparse gradients, ..."), ``"sparse"``
    (SparseAdam) or ``"both"`` (SGD, Adagrad).

    Examples
    --------
    Plain gradient descent with a step size that shrinks as ``lr / √t``:

    >>> import numpy as np, minigrad
    >>> class DecayingGD(Optimizer):
    ...     def __init__(self, params, lr=0.1):
    ...         super().__init__(params, dict(lr=lr))
    ...     def _update(self, p, grad, group):
    ...         state = self.state[p]
    ...         state["step"] = state.get("step", 0) + 1
    ...         p.data.sub_(group["lr"] / np.sqrt(state["step"]) * grad)
    >>> w = minigrad.nn.Parameter(np.array([1.0, -2.0]))
    >>> opt = DecayingGD([w], lr=0.1)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w.data
    tensor([ 0.6869, -1.3737], dtype=minigrad.float64)
    >>> opt.state[w]["step"]
    2
    """

    #: Which gradient layouts :meth:`step` hands to :meth:`_update`: ``"dense"``
    #: (a row-sparse gradient is an error), ``"sparse"`` (a dense one is) or ``"both"``.
    _sparse_grads = "dense"
    #: The error for a gradient of the other layout (PyTorch's wording, per optimizer);
    #: ``{name}`` is the class name.
    _layout_error = "{name} does not support sparse gradients"

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__module__}.{type(params).__name__}"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- groups --------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters, with its own options, to :attr:`param_groups`.

        Useful when fine-tuning: frozen layers can be made trainable and added
        as training progresses. Options missing from ``param_group`` take the
        optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        # (name, tensor) pairs, as named_parameters() yields, keep their names.
        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__module__}.{type(p).__name__}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this "
                "will cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {which} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients -------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters.

        Parameters
        ----------
        set_to_none : bool, default True
            Set ``.grad`` to None (the default, as in PyTorch) instead of filling
            it with zeros. It matters: a parameter whose grad is None is skipped
            by :meth:`step`, while a zero gradient still moves it under momentum
            or weight decay.
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif isinstance(g, SparseTensor):
                    # A sparse zero keeps the layout: no rows at all.
                    p.grad = SparseTensor(
                        np.zeros((0,), dtype=np.int64), np.zeros((0, g.shape[1]), dtype=g.dtype), g.shape,
                        is_coalesced=True,
                    )
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g.requires_grad_(False)
                    g._array[...] = 0
                    g._bump_version()

    def step(self, closure=None):
        """Perform one optimization step (update every parameter that has a grad).

        Parameters
        ----------
        closure : callable, optional
            Re-evaluates the model and returns the loss; it is called with grad
            mode enabled and its result is returned.

        Raises
        ------
        RuntimeError
            When a gradient's layout (dense or row-sparse) is one this optimizer
            does not take; no parameter of the group has been changed then.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in self._params_with_grad(group):
                grad = p.grad
                # The bump counts only real changes: an update that leaves p as it
                # was (SparseAdam's step with no rows) keeps p's version, as in PyTorch.
                if self._update(p, grad if isinstance(grad, SparseTensor) else grad._array, group) is not False:
                    p._bump_version()
        return loss

    def _update(self, p: Tensor, grad, group: dict):
        """Update one parameter in place: the update rule, written by each optimizer.

        Parameters
        ----------
        p : Tensor
            The parameter; change it in place (the model holds the same tensor), through
            ``p.data`` (a tensor outside the graph) or, as the built-in optimizers do, the
            array itself (``p._array``).
        grad : numpy.ndarray or SparseTensor
            ``p.grad``'s array, or the row-sparse gradient itself (only when
            :attr:`_sparse_grads` lets sparse gradients through).
        group : dict
            The parameter's group: its options (``lr``, ...).

        Returns
        -------
        None, or False when ``p`` was left unchanged (its version then stays).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement _update(p, grad, group)")

    def _params_with_grad(self, group: dict) -> list:
        """The group's parameters that have a gradient, after checking every gradient's layout.

        The whole group is checked before anything is updated, so a rejected
        gradient leaves every parameter and its state untouched.
        """
        with_grad = [p for p in group["params"] if p.grad is not None]
        if self._sparse_grads != "both":
            want_sparse = self._sparse_grads == "sparse"
            if any(isinstance(p.grad, SparseTensor) is not want_sparse for p in with_grad):
                raise RuntimeError(self._layout_error.format(name=type(self).__name__))
        return with_grad

    # -- checkpoints -----------------------------------------------------------------
    def state_dict(self) -> dict:
        """The optimizer's state as plain containers, with parameters replaced by indices.

        Returns
        -------
        dict
            ``{"state": {index: {name: value}}, "param_groups": [{option: value,
            "params": [index, ...]}]}``. Indices number the parameters in group
            order, so the dict can be loaded into a fresh optimizer built on
            equally ordered parameters. The values are the optimizer's own
            tensors (not copies), as in PyTorch; save them before stepping on.
        """
        mapping: dict[int, int] = {}
        start = 0

        def pack(group):
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                mapping.setdefault(id(p), i)
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {
            (mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the state produced by :meth:`state_dict` (deep copies; casts to each parameter's dtype).

        Raises
        ------
        ValueError
            When the number of groups or of parameters in a group differs.
        """
        state_dict = dict(state_dict)
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of "
                "optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )

        def cast(param, value, key=None):
            # Step counters keep their dtype; every other float state follows the
            # parameter's dtype (as PyTorch's load does).
            if isinstance(value, Tensor):
                arr = value._array
                if key != "step" and param.dtype.kind == "f" and arr.dtype.kind == "f":
                    arr = arr.astype(param.dtype)
                return Tensor(arr.copy())
            if isinstance(value, SparseTensor):
                vals = value._val.astype(param.dtype) if param.dtype.kind == "f" else value._val
                return SparseTensor(value._idx.copy(), vals.copy(), value.shape, is_coalesced=value.is_coalesced())
            if isinstance(value, np.ndarray):
                return value.copy()
            if isinstance(value, dict):
                return {k: cast(param, v, key=k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            # Options saved from a tuple may come back as lists (e.g. through JSON).
            if "betas" in saved and isinstance(saved["betas"], list):
                saved["betas"] = tuple(saved["betas"])
            new_groups.append(saved)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)


# -- helpers shared by the update rules ------------------------------------------------
def _zeros_state(p: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor shaped and typed like ``p`` (``torch.zeros_like`` / ``full_like``)."""
    return Tensor(np.full(p._array.shape, fill, dtype=p._array.dtype))


def _step_tensor() -> Tensor:
    """A fresh step counter: a 0-d float32 tensor, as PyTorch keeps it."""
    return Tensor(np.zeros((), dtype=np.float32))


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, rounded the way ``torch.lerp`` rounds.

    PyTorch evaluates from whichever end is nearer, so that weight 1 gives
    exactly ``end``: ``start + w (end - start)`` when ``|w| < 0.5``, else
    ``end - (end - start)(1 - w)``.
    """
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        np.subtract(end, diff, out=start)
