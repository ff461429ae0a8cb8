"""NumPy's spellings of two parameter names, accepted where PyTorch accepts them.

PyTorch's argument parser, which every function written in C++ goes through, reads
``axis=`` as ``dim=`` and ``keepdims=`` as ``keepdim=`` (``x.sum(axis=0, keepdims=True)``);
its functions written in Python (``F.softmax``, ``Tensor.norm``, ``Tensor.split``) take
no such aliases. :func:`numpy_spellings` gives a function the two aliases, and
:func:`respell_public_names` applies it where public names are bound (the package, the
``Tensor`` methods, ``minigrad.linalg``, ``F``), to every function with a ``dim`` or
``keepdim`` parameter except those PyTorch writes in Python (each wrapper is built when
its name is first called). minigrad's own calls go to the functions directly and never pass
through it.
"""
from __future__ import annotations

import functools
import inspect

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def _parameters(fn) -> tuple:
    """The names of ``fn``'s parameters that can be passed by keyword, in order (from its code: cheap at import)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ()
    return code.co_varnames[code.co_posonlyargcount:code.co_argcount + code.co_kwonlyargcount]


class _NotGiven:
    """The default of ``axis`` and ``keepdims`` (and of a required parameter an alias may stand for)."""

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN = _NotGiven()


def numpy_spellings(fn):
    """``fn``, also accepting ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``.

    Naming a parameter under both spellings (``x.sum(0, axis=1)``) is a TypeError, as in
    PyTorch. The function returned spells out ``fn``'s parameters plus the aliases, so a
    call without them costs two identity tests and a plain call of ``fn``; a
    ``*args, **kwargs`` layer would add about a twentieth to a small ``x.sum(0)``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.ones(2, 3).sum(axis=0, keepdims=True)
    tensor([[2., 2., 2.]])
    """
    code = fn.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_posonlyargcount:
        raise TypeError(f"numpy_spellings: {fn.__qualname__} must have plain named parameters")
    positional = code.co_varnames[:code.co_argcount]
    keyword_only = code.co_varnames[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
    aliases = [(alias, name) for alias, name in _ALIASES if name in positional + keyword_only]
    defaults = dict(zip(positional[len(positional) - len(fn.__defaults__ or ()):], fn.__defaults__ or ()))
    defaults.update(fn.__kwdefaults__ or {})
    # Required parameters from the first aliased one on get a default (not given), so that an
    # alias can stand for one (x.gather(axis=0, index=i)); the slow path checks they were given.
    first = min(positional.index(n) if n in positional else len(positional) for _, n in aliases)
    required = [n for n in positional[first:] if n not in defaults]
    defaults.update({n: _NOT_GIVEN for n in required})
    slow = [f"{alias} is not _NOT_GIVEN" for alias, _ in aliases] + [f"{n} is _NOT_GIVEN" for n in required]
    items = ", ".join(f"({alias!r}, {alias}, {name!r}, {name}, _defaults[{name!r}])" for alias, name in aliases)
    targets = "".join(f"{name}, " for _, name in aliases)
    source = (
        f"def {fn.__name__}({', '.join(positional + ('*',) + keyword_only + tuple(a for a, _ in aliases))}):\n"
        f"    if {' or '.join(slow)}:\n"
        f"        {targets}= _respell({fn.__name__!r}, ({items},), ({', '.join(required + [''])}), {tuple(required)!r})\n"
        f"    return _fn({', '.join(positional + tuple(f'{n}={n}' for n in keyword_only))})\n"
    )
    namespace = {"_fn": fn, "_NOT_GIVEN": _NOT_GIVEN, "_respell": _respell, "_defaults": defaults}
    exec(compile(source, f"<numpy_spellings of {fn.__qualname__}>", "exec"), namespace)
    wrapped = functools.wraps(fn)(namespace[fn.__name__])
    wrapped.__defaults__ = tuple(defaults[n] for n in positional if n in defaults) or None
    wrapped.__kwdefaults__ = {**{n: defaults[n] for n in keyword_only if n in defaults},
                              **{alias: _NOT_GIVEN for alias, _ in aliases}}
    wrapped.numpy_spellings = True
    return wrapped


def _respell(name: str, items: tuple, required_values: tuple, required: tuple) -> list:
    """The values of the aliased parameters, each ``(alias, its value, parameter, its value, its
    default)``; PyTorch's TypeError for a parameter given under both spellings (naming the first
    alias of the call), Python's for a required one given under neither."""
    if any(given is not _NOT_GIVEN and value is not default for _, given, _, value, default in items):
        first = next(alias for alias, given, *_ in items if given is not _NOT_GIVEN)
        raise TypeError(f"{name}() got an unexpected keyword argument '{first}'")
    values = [value if given is _NOT_GIVEN else given for _, given, _, value, _ in items]
    filled = {param: v for (_, _, param, _, _), v in zip(items, values)}
    for param, value in zip(required, required_values):
        if filled.get(param, value) is _NOT_GIVEN:
            raise TypeError(f"{name}() missing 1 required positional argument: '{param}'")
    return values


def respell_public_names(owner, written_in_python=()) -> None:
    """Wrap with :func:`numpy_spellings` every public function of ``owner`` (a module's
    globals, or a class) that has a ``dim`` or ``keepdim`` parameter, except
    ``written_in_python``: the names PyTorch implements in Python, without the aliases."""
    namespace = owner if isinstance(owner, dict) else vars(owner)
    for name, fn in list(namespace.items()):
        if name.startswith("_") or name in written_in_python or getattr(fn, "numpy_spellings", False):
            continue
        if callable(fn) and not isinstance(fn, type) and {"dim", "keepdim"} & set(_parameters(fn)):
            _bind(owner, name, _spelled_on_first_call(owner, name, fn))


def _bind(owner, name: str, value) -> None:
    """``owner[name] = value`` for a module's globals, ``setattr`` for a class."""
    if isinstance(owner, dict):
        owner[name] = value
    else:
        setattr(owner, name, value)


def _spelled_on_first_call(owner, name: str, fn):
    """A stand-in for ``numpy_spellings(fn)`` that builds it when first called and puts it in
    its place (``owner[name]``, or the attribute ``name`` of ``owner``).

    Building the wrappers of all 73 public names when minigrad loads took 18 of the 72 ms
    ``import minigrad, minigrad.nn, minigrad.optim`` spends after NumPy, and a program calls a
    handful of them. A reference taken before the first call keeps this stand-in, which passes
    its arguments on to the built wrapper.
    """
    built = None

    @functools.wraps(fn)
    def spelled(*args, **kwargs):
        nonlocal built
        if built is None:
            built = numpy_spellings(fn)
            _bind(owner, name, built)
        return built(*args, **kwargs)

    spelled.numpy_spellings = True
    return spelled
