"""Imports go down the layers: kernels < autograd < tensor + ops < nn, optim, utils.

Every ``import`` in the package (at the top of a module or inside a function), and every
``importlib.import_module`` call, is checked: a module may import from its own layer or a
lower one. The exceptions
are the declared seams below, each explained in a comment where it happens. The
tensor <-> ops pair is one layer, joined at the bottom of ``minigrad/tensor.py``;
the autograd layer learns the Tensor class by registration
(``minigrad.autograd.function._register_tensor_type``), not by an import.
"""
from __future__ import annotations

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minigrad"

# Layer of each top-level part of the package; anything not listed is on top (nn, optim, utils, ...).
LAYERS = {
    "kernels": 0, "_kernels": 0, "sparse": 0,
    "autograd": 1,
    "tensor": 2, "ops": 2, "creation": 2, "random": 2, "devices": 2, "size": 2, "legacy": 2,
    "backends": 2, "cuda": 2, "serialization": 2, "linalg": 2, "dtypes": 2,
}
TOP = 3

# (importing module, imported module): why the upward import is there (see the comment at it).
DECLARED_SEAMS = {
    ("minigrad.sparse", "minigrad.tensor"): "sparse gradients live below the engine; their accessors make tensors",
    ("minigrad.serialization", "minigrad.nn.parameter"): "save/load (minigrad.save, beside the tensor layer) "
    "write and rebuild Parameters, the one nn class a checkpoint knows",
    ("minigrad.autograd", "minigrad.autograd.functional"): "minigrad.autograd.functional (jacobian, hessian, ...) "
    "is built from tensor ops; the package's __getattr__ loads it on first access, as torch.autograd.functional",
}

# Modules that import a module whose name is computed at run time (``importlib.import_module(name)``
# with a name that is not a literal), so the test cannot see the target: why, and what it can be.
DECLARED_DYNAMIC_IMPORTS = {
    "minigrad": "the package's __getattr__ loads minigrad.nn, optim, utils, testing, viz and course on first "
    "access (_LAZY_SUBMODULES), as torch.nn is reachable after a bare import torch",
}


# Modules that sit above their package's layer: they are built from tensor ops.
ABOVE_THEIR_PACKAGE = {
    "minigrad.autograd.functional": TOP,  # jacobian/hessian/hvp: compositions of grad and tensor ops
}


def _layer(module: str) -> int:
    if module in ABOVE_THEIR_PACKAGE:
        return ABOVE_THEIR_PACKAGE[module]
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS["tensor"]  # the package re-exports tensor + ops (nn, optim... are loaded lazily)
    return LAYERS.get(parts[1], TOP)


def _import_module_call(node):
    """The argument node of an ``importlib.import_module(...)`` call, else None."""
    if isinstance(node, ast.Call) and node.args:
        f = node.func
        if (isinstance(f, ast.Attribute) and f.attr == "import_module") or (isinstance(f, ast.Name) and f.id == "import_module"):
            return node.args[0]
    return None


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        yield ".".join(rel.parts).removesuffix(".__init__"), rel, ast.parse(path.read_text(encoding="utf-8"))


def _dynamic_imports():
    """(module, where) of every ``import_module`` call whose argument is not a string literal."""
    for module, rel, tree in _modules():
        for node in ast.walk(tree):
            arg = _import_module_call(node)
            if arg is not None and not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                yield module, f"{rel}.py:{node.lineno}"


def _imports():
    for module, rel, tree in _modules():
        for node in ast.walk(tree):
            arg = _import_module_call(node)
            if arg is not None and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                targets = [arg.value]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # ``from minigrad import ops`` imports minigrad.ops (the package's __init__ runs
                # first, but that is how Python imports, not a dependency on everything it re-exports).
                targets = [f"{node.module}.{a.name}" for a in node.names]
                if node.module != "minigrad":
                    targets.append(node.module)
            else:
                continue
            for target in targets:
                if target.startswith("minigrad.") or target == "minigrad":
                    yield module, target, f"{rel}.py:{node.lineno}"


def test_every_import_goes_down_the_layers_or_is_a_declared_seam():
    upward = sorted({
        f"{where}: {module} imports {target}"
        for module, target, where in _imports()
        if _layer(target) > _layer(module)
        and not any(module == m and (target == t or target.startswith(t + ".")) for m, t in DECLARED_SEAMS)
    })
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_every_declared_seam_is_still_used():
    used = {(m, t) for m, t in DECLARED_SEAMS if any(mod == m and tgt == t for mod, tgt, _ in _imports())}
    assert used == set(DECLARED_SEAMS)


def test_every_import_by_a_computed_name_is_declared():
    found = {module: where for module, where in _dynamic_imports()}
    undeclared = sorted(f"{where}: {module}" for module, where in found.items() if module not in DECLARED_DYNAMIC_IMPORTS)
    assert not undeclared, "imports whose target the test cannot see:\n" + "\n".join(undeclared)
    assert set(found) >= set(DECLARED_DYNAMIC_IMPORTS), "a declared import by a computed name is gone"


def test_an_import_module_call_counts_as_an_import():
    tree = ast.parse("import importlib\nimportlib.import_module('minigrad.nn')\nimportlib.import_module(name)\n")
    calls = [_import_module_call(n) for n in ast.walk(tree)]
    assert [a.value for a in calls if isinstance(a, ast.Constant)] == ["minigrad.nn"]
    assert sum(isinstance(a, ast.Name) for a in calls) == 1
