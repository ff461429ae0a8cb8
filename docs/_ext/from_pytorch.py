"""The lists of the "From PyTorch" page, read from minigrad's code when the docs are built.

:func:`provided` collects, per namespace, the public names minigrad has (a
module's ``__all__``, or the public attributes of the top-level package and of
``Tensor`` and ``Module``). PyTorch is not needed (nor installed) to build the
docs, so the few names that are minigrad's own, not PyTorch's, are listed by
hand in :data:`MINIGRAD_OWN`, and the PyTorch names minigrad lacks on purpose
in :data:`LACKED`; ``tests/test_docs.py`` checks both lists, and that every
other listed name exists in PyTorch, against the installed PyTorch.
:func:`write_page` renders them as reST for ``docs/from_pytorch.rst`` to include.
"""
from __future__ import annotations

import __future__
import importlib
import inspect
import types
from pathlib import Path

#: (how the page spells the namespace, minigrad's object, PyTorch's object), in page order.
SECTIONS = [
    ("torch", "minigrad", "torch"),
    ("Tensor", "minigrad.Tensor", "torch.Tensor"),
    ("nn", "minigrad.nn", "torch.nn"),
    ("nn.Module", "minigrad.nn.Module", "torch.nn.Module"),
    ("F", "minigrad.nn.functional", "torch.nn.functional"),
    ("nn.init", "minigrad.nn.init", "torch.nn.init"),
    ("nn.utils", "minigrad.nn.utils", "torch.nn.utils"),
    ("optim", "minigrad.optim", "torch.optim"),
    ("optim.lr_scheduler", "minigrad.optim.lr_scheduler", "torch.optim.lr_scheduler"),
    ("autograd", "minigrad.autograd", "torch.autograd"),
    ("autograd.functional", "minigrad.autograd.functional", "torch.autograd.functional"),
    ("utils.data", "minigrad.utils.data", "torch.utils.data"),
]

#: Names minigrad provides that PyTorch's namespace does not have, and what they are.
MINIGRAD_OWN = {
    ("torch", "SparseTensor"): "the row-sparse gradient of ``Embedding(sparse=True)`` (PyTorch: a sparse COO tensor)",
    ("torch", "kernels"): "the door to the compiled gather and index-add kernels",
    ("torch", "course"): "the exercises: task sets, stubs and their grading",
    ("torch", "viz"): "drawings of the autograd graph",
    ("autograd", "Primitive"): "how minigrad's own ops are written: ``forward``/``backward`` on NumPy arrays",
    ("autograd", "Node"): "a recorded call in the graph, ``tensor.grad_fn`` (PyTorch's is ``torch.autograd.graph.Node``)",
    ("autograd", "FunctionCtx"): "the ``ctx`` of a ``Function`` (PyTorch's is in ``torch.autograd.function``)",
    ("autograd", "once_differentiable"): "PyTorch's ``torch.autograd.function.once_differentiable``, one level up",
    ("autograd", "RemovableHandle"): "what ``register_hook`` returns (PyTorch's is ``torch.utils.hooks.RemovableHandle``)",
    ("autograd", "is_grad_enabled"): "``torch.is_grad_enabled``, also reachable here",
    ("autograd", "sum_to_shape"): "the engine's reduction of a broadcast gradient to an input's shape",
}

#: Submodules of the package that are files it is made of, not names it offers (Python sets a
#: submodule as an attribute of its package once imported).
IMPLEMENTATION_MODULES = {"creation", "devices", "dtypes", "legacy", "size", "ops"}

#: (namespace, PyTorch names, why minigrad does not have them).
LACKED = [
    ("torch", ("compile", "jit", "fx", "export", "onnx"),
     "minigrad runs each op eagerly on NumPy; there is no graph capture, tracing or compiler to hand a program to"),
    ("torch", ("vmap", "func"),
     "no function transforms; ``minigrad.autograd.functional`` covers jacobians, hessians and their products"),
    ("autograd", ("forward_ad",),
     "no forward mode: ``autograd.functional.jvp`` is computed with two reverse passes"),
    ("torch", ("bfloat16", "complex64", "complex128"),
     "dtypes are backed by NumPy's, which has no bfloat16; complex autograd is beyond the course"),
    ("torch", ("amp", "autocast"), "no mixed precision: every op computes in the dtype of its inputs"),
    ("torch", ("distributed",), "one process"),
    ("nn", ("DataParallel", "parallel"), "one process on the CPU: there is nothing to spread a batch over"),
    ("torch", ("quantization", "ao"), "no quantized kernels"),
    ("torch", ("hub",), "minigrad downloads nothing"),
    ("torch", ("sparse_coo_tensor",),
     "the only sparse tensor is the row-sparse gradient of an embedding (``Embedding(sparse=True)``)"),
    ("torch", ("UntypedStorage",), "the storage of a tensor is a NumPy array"),
    ("Tensor", ("untyped_storage", "storage", "stride"),
     "the storage of a tensor is a NumPy array, and NumPy decides its layout"),
    ("Tensor", ("squeeze_", "unsqueeze_", "t_", "transpose_"),
     "they change a tensor's shape in place, and minigrad's in-place operations only write values into the "
     "memory a tensor has: write ``x = x.squeeze()``"),
    ("nn.Module", ("register_backward_hook",),
     "deprecated in PyTorch (it reports the gradients of the module's last op only); use "
     "``register_full_backward_hook``"),
]


def resolve(path: str):
    """The object at a dotted ``path`` (a module, or an attribute of one)."""
    parts = path.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(path)


def provided(path: str) -> list:
    """The public names of minigrad's object at ``path``, sorted case-insensitively."""
    obj = resolve(path)
    if isinstance(obj, types.ModuleType) and hasattr(obj, "__all__"):
        names = list(obj.__all__)
    elif isinstance(obj, types.ModuleType):
        # The top-level package: its functions, classes, dtypes and subpackages.
        names = [n for n, v in vars(obj).items()
                 if not n.startswith("_") and not isinstance(v, __future__._Feature)
                 and not (isinstance(v, types.ModuleType) and n in IMPLEMENTATION_MODULES)]
    else:
        names = [n for n, _ in inspect.getmembers(obj) if not n.startswith("_")]
    return sorted(set(names), key=lambda n: (n.lower(), n))


def _literal(prefix: str, name: str) -> str:
    return f"``{prefix}.{name}``"


def render() -> str:
    """The reST of the generated part of the page."""
    out = []
    total = 0
    for prefix, path, torch_path in SECTIONS:
        names = provided(path)
        ours = [n for n in names if (prefix, n) in MINIGRAD_OWN]
        theirs = [n for n in names if (prefix, n) not in MINIGRAD_OWN]
        total += len(theirs)
        title = "``torch``" if prefix == "torch" else f"``{prefix}`` (``{torch_path}``)"
        out += [title, "~" * len(title), "",
                f"{len(theirs)} names, from ``{path}``.", "",
                ".. hlist::", "   :columns: 3", ""]
        out += [f"   * {_literal(prefix, n)}" for n in theirs]
        out.append("")
        if ours:
            out += ["minigrad's own (not in PyTorch's namespace):", ""]
            out += [f"* {_literal(prefix, n)}: {MINIGRAD_OWN[(prefix, n)]}" for n in ours]
            out.append("")
    head = [f"In all, {total} PyTorch names in the namespaces below (counted when this page was built).", ""]
    lacked = ["What minigrad lacks on purpose", "~" * 30, "",
              "PyTorch names a program may meet that minigrad does not have, and why. Any other name "
              "minigrad lacks is simply not written yet; using one raises ``AttributeError``.", ""]
    for prefix, names, why in LACKED:
        lacked.append(f"* {', '.join(_literal(prefix, n) for n in names)}: {why}.")
    lacked.append("")
    return "\n".join(head + out + lacked)


def write_page(target: Path) -> None:
    """Write :func:`render`'s reST to ``target`` (rewritten only when it changes)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    text = render()
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")
