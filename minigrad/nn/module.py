"""``Module``: the base class of every layer, and the containers built on it.

A module owns three kinds of state, all registered simply by assigning an
attribute in ``__init__``:

* a :class:`~minigrad.nn.Parameter` (``self.weight = Parameter(...)``) - trained;
* a sub-``Module`` (``self.fc = Linear(3, 4)``) - its parameters are ours too;
* a buffer (``self.register_buffer("running_mean", t)``) - saved, not trained.

Everything else (``parameters()``, ``state_dict()``, ``zero_grad()``, ``train()``,
the printed ``repr``) walks these three registries, as in PyTorch.

Calling a module runs ``forward`` between its hooks, in PyTorch's order:
forward pre-hooks (may replace the inputs), ``forward``, forward hooks (may
replace the output); backward hooks see the gradients at the module's
boundary (:mod:`minigrad.nn.hooks`).
"""
from __future__ import annotations

import operator
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Iterator

import numpy as np

from minigrad.autograd import RemovableHandle, no_grad
from minigrad.devices import _cuda_device, _not_available, _parse_to
from minigrad.legacy import _legacy_name
from minigrad.nn.hooks import BackwardHook
from minigrad.nn.parameter import Parameter
from minigrad.tensor import Tensor

__all__ = [
    "Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity", "Flatten",
    "Unflatten",
]


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for all neural network layers.

    Subclasses call ``super().__init__()`` first, assign parameters and
    submodules as attributes, and define ``forward``; calling the module runs
    ``forward``.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> class TwoLayer(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = nn.Linear(4, 8)
    ...         self.fc2 = nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.fc2(self.fc1(x).relu())
    >>> net = TwoLayer()
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    >>> net(minigrad.randn(3, 4)).shape
    minigrad.Size([3, 2])
    """

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these registries to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        # Hooks, in call order: lists of (hook, *flags) tuples, one new tuple per registration
        # (a RemovableHandle removes its own entry, even when a hook is registered twice).
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_backward_pre_hooks", [])
        object.__setattr__(self, "_backward_hooks", [])

    def forward(self, *args, **kwargs):
        """The computation of the module; call the module (``m(x)``), not ``forward``, so hooks and checks run.

        Subclasses override it. The base class raises ``NotImplementedError``.
        """
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        for hook, with_kwargs in self._forward_pre_hooks:
            if with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(
                            f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got {res}."
                        )
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        bw_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            bw_hook = BackwardHook(self, [h for h, in self._backward_hooks], [h for h, in self._backward_pre_hooks])
            args = bw_hook.setup_input_hook(args)
        result = None
        called = set()   # forward hooks that ran (the always_call ones run anyway if forward raises)
        try:
            result = self.forward(*args, **kwargs)
            for entry in list(self._forward_hooks):
                hook, with_kwargs, _ = entry
                called.add(id(entry))
                res = hook(self, args, kwargs, result) if with_kwargs else hook(self, args, result)
                if res is not None:
                    result = res
        except Exception:
            for entry in list(self._forward_hooks):
                hook, with_kwargs, always_call = entry
                if always_call and id(entry) not in called:
                    try:
                        res = hook(self, args, kwargs, result) if with_kwargs else hook(self, args, result)
                        if res is not None:
                            result = res
                    except Exception as exc:
                        warnings.warn(
                            "module forward hook with ``always_call=True`` raised an exception that was silenced "
                            f"as another error was raised in forward: {exc}", stacklevel=2,
                        )
            raise
        if bw_hook is not None:
            result = bw_hook.setup_output_hook(result)
        return result

    # -- hooks ------------------------------------------------------------------------
    @staticmethod
    def _add_hook(hooks: list, entry, prepend: bool) -> RemovableHandle:
        if prepend:
            hooks.insert(0, entry)
        else:
            hooks.append(entry)
        return RemovableHandle(hooks, entry)

    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a non-None result replaces ``args``.

        A result that is not a tuple is taken as the single argument. With
        ``with_kwargs=True`` the hook is ``hook(module, args, kwargs)`` and returns
        None or ``(new_args, new_kwargs)``. ``prepend=True`` runs it before the
        hooks already registered. Returns a handle whose ``remove()`` unregisters it.

        Examples
        --------
        >>> import minigrad
        >>> from minigrad import nn
        >>> lin = nn.Linear(2, 1)
        >>> handle = lin.register_forward_pre_hook(lambda m, args: args[0] * 0)
        >>> lin(minigrad.ones(1, 2)).item() == lin.bias.item()   # the input was replaced by zeros
        True
        >>> handle.remove()
        """
        return self._add_hook(self._forward_pre_hooks, (hook, with_kwargs), prepend)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a non-None result replaces the output.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``.
        ``always_call=True`` runs it even when ``forward`` raises (output ``None``).
        ``prepend=True`` runs it before the hooks already registered. Returns a
        handle whose ``remove()`` unregisters it.

        Examples
        --------
        >>> import minigrad
        >>> from minigrad import nn
        >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> seen = {}
        >>> handle = net[1].register_forward_hook(lambda m, args, out: seen.update(relu=out.shape))
        >>> _ = net(minigrad.randn(5, 3))
        >>> seen
        {'relu': minigrad.Size([5, 4])}
        >>> handle.remove()
        """
        return self._add_hook(self._forward_hooks, (hook, with_kwargs, always_call), prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are known.

        ``grad_output`` has one entry per output (``None`` for a non-tensor or an
        output that got no gradient); a non-None result (a tuple of the same
        length) replaces it. Returns a handle whose ``remove()`` unregisters it.
        """
        return self._add_hook(self._backward_pre_hooks, (hook,), prepend)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's inputs are known.

        ``grad_input`` has one entry per positional argument of ``forward``
        (``None`` for a non-tensor; zeros for a tensor that does not require
        grad), ``grad_output`` one per output. A non-None result (a tuple as long
        as ``grad_input``) replaces ``grad_input``: what flows on to the inputs.
        Gradients of parameters are not part of either. If no input requires
        grad, the hook runs with ``grad_input`` all ``None`` (with a warning) and
        must return None. Returns a handle whose ``remove()`` unregisters it.

        Examples
        --------
        >>> import minigrad
        >>> from minigrad import nn
        >>> lin = nn.Linear(2, 1)
        >>> handle = lin.register_full_backward_hook(lambda m, gin, gout: tuple(g * 0 for g in gin))
        >>> x = minigrad.ones(1, 2, requires_grad=True)
        >>> lin(x).sum().backward()
        >>> x.grad
        tensor([[0., 0.]])
        """
        return self._add_hook(self._backward_hooks, (hook,), prepend)

    # -- registration by attribute assignment ----------------------------------------
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(minigrad.nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            modules = self.__dict__.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name)
            modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (Module or None expected)")
            self._modules[name] = None
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _discard(self, name: str) -> None:
        """Forget ``name`` in every registry (an attribute lives in exactly one place)."""
        self.__dict__.pop(name, None)
        for reg in ("_parameters", "_buffers", "_modules"):
            self.__dict__[reg].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries, else a
        # real AttributeError (a typo must never read as a silent None).
        d = self.__dict__
        for reg in ("_parameters", "_buffers", "_modules"):
            if reg in d and name in d[reg]:
                return d[reg][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for reg in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(reg, {}):
                del self.__dict__[reg][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (or ``None``, a declared-but-absent parameter such as a missing bias)."""
        self._check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' (minigrad.nn.Parameter or None required)")
        self._discard(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer: state saved in ``state_dict`` (if ``persistent``) but not trained."""
        self._check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (minigrad Tensor or None required)")
        self._discard(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module) -> None:
        """Add a child module (``self.name = module`` does the same)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        self._discard(name)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name, kind) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(type(self), name) or (name in self.__dict__):
            raise KeyError(f"attribute '{name}' already exists")

    def get_submodule(self, target: str) -> "Module":
        """The submodule at the dotted path ``target`` (``''`` is the module itself)."""
        mod = self
        for item in target.split(".") if target else ():
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. ``'fc1.weight'``)."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if not isinstance(getattr(mod, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return getattr(mod, name)

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (e.g. ``'bn.running_mean'``)."""
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{mod._get_name()} has no attribute `{name}`")
        if name not in mod._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return mod._buffers[name]

    # -- iteration ----------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(name, module)`` for this module and every descendant (each once)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """Iterate over this module and all its submodules, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """Iterate over ``(name, module)`` for the direct submodules."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """Iterate over the direct submodules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted_name, parameter)``; a parameter shared by two modules comes once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Iterate over the parameters of this module and (with ``recurse``) its submodules, each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Iterate over ``(dotted name, tensor)`` for the registered buffers."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Iterate over the registered buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- modes and bulk operations -------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``Dropout`` active) on this module and all descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter; returns the module."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient: to ``None`` (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none or getattr(p.grad, "is_sparse", False):
                p.grad = None
            else:
                p.grad._array[...] = 0

    def apply(self, fn) -> "Module":
        """Call ``fn(m)`` on every descendant, children first, then on this module."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert) -> "Module":
        """Convert every parameter and buffer's array (keeping the Parameter objects)."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    with no_grad():
                        p._array = convert(p._array)
                    if p._grad is not None and not getattr(p._grad, "is_sparse", False):
                        p._grad._array = convert(p._grad._array)
            for name, b in m._buffers.items():
                if b is not None:
                    b._array = convert(b._array)
        return self

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32."""
        return self._apply_to_tensors(lambda a: a.astype(np.float32) if a.dtype.kind == "f" else a)

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64."""
        return self._apply_to_tensors(lambda a: a.astype(np.float64) if a.dtype.kind == "f" else a)

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16."""
        return self._apply_to_tensors(lambda a: a.astype(np.float16) if a.dtype.kind == "f" else a)

    def to(self, *args, **kwargs) -> "Module":
        """Convert parameters and floating buffers in place; returns the module.

        PyTorch's forms: ``to(dtype)``, ``to(device, dtype=None)``, ``to(tensor)``.
        The dtype must be floating; a device other than the CPU is an error.
        """
        _, dt, _ = _parse_to(args, kwargs)
        if dt is None:
            return self
        if dt.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=minigrad.{dt.name}"
            )
        return self._apply_to_tensors(lambda a: a.astype(dt) if a.dtype.kind == "f" else a)

    def cpu(self) -> "Module":
        """Return the module itself (minigrad has only the CPU)."""
        return self

    def cuda(self, device=None) -> "Module":
        """An error: minigrad runs on the CPU only."""
        raise _not_available(_cuda_device(device))

    # -- state dict ----------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer by dotted name.

        Values are tensors detached from the graph that share the module's
        memory (so a later in-place update of the module shows through, as in
        PyTorch; ``copy`` them to snapshot). ``keep_vars=True`` returns the
        parameters themselves.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy ``state_dict``'s values into this module's parameters and buffers.

        Values are copied into the existing arrays (their dtype is kept), so
        optimizers holding the parameters keep working. With ``strict`` any
        missing or unexpected key is an error, as is a shape mismatch always;
        all problems are listed in one ``RuntimeError``. Returns
        ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            arr = value._array if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != target.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {_size(arr.shape)} from checkpoint, "
                    f"the shape in current model is {_size(target.shape)}."
                )
                continue
            if assign:
                target._array = arr
            else:
                np.copyto(target._array, arr, casting="unsafe")
                target._bump_version()
        if strict:
            head = []
            if unexpected:
                head.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                head.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
            errors = head + errors
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside ``Name(...)``; layers override it to show their settings."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, module in self._modules.items():
            lines.append(f"({name}): " + _addindent(repr(module), 2))
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


def _size(shape) -> str:
    return "torch.Size([" + ", ".join(str(s) for s in shape) + "])"


class _IncompatibleKeys(tuple):
    """``(missing_keys, unexpected_keys)`` with attribute access, as PyTorch returns."""

    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    @property
    def missing_keys(self):
        return self[0]

    @property
    def unexpected_keys(self):
        return self[1]

    def __repr__(self) -> str:
        if not self[0] and not self[1]:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self[0]}, unexpected_keys={self[1]})"


# -- containers ----------------------------------------------------------------------
class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b)(x) == b(a(x))``.

    Accepts modules positionally (named ``"0"``, ``"1"``, ...) or one ``OrderedDict``.
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[self._index(idx)]

    def __setitem__(self, idx: int, module) -> None:
        key = list(self._modules)[self._index(idx)]
        self.add_module(key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [keys[self._index(idx)]]):
            del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module) -> "Sequential":
        """Add ``module`` at the end; returns the container."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _index(self, idx: int) -> int:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(self._index(idx))]

    def __setitem__(self, idx: int, module) -> None:
        self.add_module(str(self._index(idx)), module)

    def __delitem__(self, idx) -> None:
        items = list(self._modules.values())
        del items[idx]
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def append(self, module) -> "ModuleList":
        """Add ``module`` at the end; returns the list."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> "ModuleList":
        """Add every module of ``modules`` at the end; returns the list."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module) -> None:
        """Insert ``module`` before position ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it instead")


class ModuleDict(Module):
    """A dict of modules whose parameters are registered; keeps insertion order."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self):
        """``(name, module)`` pairs, in insertion order."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove the module called ``key`` and return it."""
        return self._modules.pop(key)

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules) -> None:
        """Add or replace modules from a mapping or an iterable of ``(name, module)`` pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for key, m in items:
            self[key] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); index it instead")


def _describe(value) -> str:
    """How a parameter container's repr shows one entry (PyTorch's wording)."""
    if isinstance(value, Tensor):
        kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
        return f"{kind} containing: [minigrad.{value.dtype.name} of size {'x'.join(str(n) for n in value.shape)}]"
    return f"Object of type: {type(value).__name__}"


class ParameterList(Module):
    """A list of parameters registered under ``"0"``, ``"1"``, ... (a plain list would hide them).

    A tensor put in (constructor, ``append``, ``extend``, ``l[i] = t``) becomes a
    :class:`Parameter` sharing its data; other objects are kept as they are, as
    in PyTorch.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> ps = nn.ParameterList([nn.Parameter(minigrad.ones(2)), minigrad.zeros(3)])
    >>> [name for name, _ in ps.named_parameters()]
    ['0', '1']
    >>> ps
    ParameterList(
        (0): Parameter containing: [minigrad.float32 of size 2]
        (1): Parameter containing: [minigrad.float32 of size 3]
    )
    """

    def __init__(self, values=None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _key(self, idx) -> str:
        idx = operator.index(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(*idx.indices(len(self)))])
        return getattr(self, self._key(idx))

    def __setitem__(self, idx, value) -> None:
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, self._key(idx), value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values) -> "ParameterList":
        return self.extend(values)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value) -> "ParameterList":
        """Add ``value`` at the end (a tensor becomes a Parameter); returns the list."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values) -> "ParameterList":
        """Append every element of ``values``; returns the list."""
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters registered under their keys; keeps insertion order.

    A tensor put in becomes a :class:`Parameter` sharing its data. As in
    PyTorch, ``update`` from a plain ``dict`` inserts its items sorted by key
    (an ``OrderedDict``, a ``ParameterDict`` or a list of pairs keeps its order).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> pd = nn.ParameterDict({"scale": minigrad.ones(3), "shift": minigrad.zeros(3)})
    >>> sorted(pd.state_dict())
    ['scale', 'shift']
    """

    def __init__(self, parameters=None) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attr(key) -> str:
        if not isinstance(key, str):
            raise TypeError(
                "Index given to ParameterDict cannot be used as a key as it is not a string "
                f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys."
            )
        return key

    def __getitem__(self, key: str):
        return getattr(self, self._attr(key))

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        if isinstance(value, Tensor) and not isinstance(value, Parameter):
            value = Parameter(value)
        setattr(self, self._attr(key), value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, self._attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def __or__(self, other: "ParameterDict") -> "ParameterDict":
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: "ParameterDict") -> "ParameterDict":
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other) -> "ParameterDict":
        self.update(other)
        return self

    def copy(self) -> "ParameterDict":
        """A new ParameterDict holding the same parameters."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def keys(self):
        """The keys, in insertion order."""
        return self._keys.keys()

    def items(self):
        """``(key, parameter)`` pairs, in insertion order."""
        return ((k, self[k]) for k in self._keys)

    def values(self):
        """The parameters, in insertion order."""
        return (self[k] for k in self._keys)

    def get(self, key: str, default=None):
        """``self[key]`` if present, else ``default``."""
        return self[key] if key in self else default

    def setdefault(self, key: str, default=None):
        """``self[key]``, inserting ``default`` first if ``key`` is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str):
        """Remove ``key`` and return its value."""
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        """Remove and return the last inserted ``(key, value)`` pair."""
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        """A new ParameterDict with ``keys``, each set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters) -> None:
        """Add or replace entries from a mapping or an iterable of ``(key, value)`` pairs."""
        if not isinstance(parameters, Iterable):
            raise TypeError(
                "ParametersDict.update should be called with an iterable of key/value pairs, but got "
                + type(parameters).__name__
            )
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            items = parameters.items()
        elif isinstance(parameters, Mapping):
            items = sorted(parameters.items())
        else:
            items = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, Iterable):
                    raise TypeError(f"ParameterDict update sequence element #{j} should be Iterable; is"
                                    + type(pair).__name__)
                if len(pair) != 2:
                    raise ValueError(f"ParameterDict update sequence element #{j} has length {len(pair)}; 2 is required")
                items.append(pair)
        for key, value in items:
            self[key] = value

    def extra_repr(self) -> str:
        lines = []
        for k, p in self.items():
            if isinstance(p, Tensor):
                # PyTorch names the type here by its legacy name (FloatTensor), unlike ParameterList.
                kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
                size = "x".join(str(n) for n in p.shape)
                lines.append(f"  ({k}): {kind} containing: [{_legacy_name(p.dtype)} of size {size}]")
            else:
                lines.append(f"  ({k}): {_describe(p)}")
        return "\n".join(lines)

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")


class Identity(Module):
    """Returns its input unchanged (accepts and ignores any constructor arguments)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flatten dims ``start_dim`` to ``end_dim`` into one (default: all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of :class:`Flatten`).

    One entry of ``unflattened_size`` may be -1 (inferred).

    Examples
    --------
    >>> import minigrad
    >>> from minigrad import nn
    >>> nn.Unflatten(1, (2, 3))(minigrad.zeros(4, 6)).shape
    minigrad.Size([4, 2, 3])
    """

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten with a named dimension needs named tensors, which minigrad does not have; "
                            "give dim as an int")
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError(f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}")
        for k, n in enumerate(unflattened_size):
            if not isinstance(n, int):
                raise TypeError(f"unflattened_size must be tuple of ints, but found element of type {type(n).__name__} "
                                f"at pos {k}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
