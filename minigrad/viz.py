r"""Pictures of the computation graph: the drawing students make by hand, made by the engine.

:func:`to_dot` turns the graph recorded behind a tensor into Graphviz DOT text;
:func:`render` draws it to an SVG/PNG/PDF file with Graphviz's ``dot`` program.

What the picture shows:

* every recorded operation as a box named like its backward node (``MulBackward0``,
  ``EmbeddingBackward0``: :meth:`Node.name`);
* every leaf that requires grad (the parameters) as an ellipse with its name
  (pass ``params``), shape and dtype, and - after ``backward`` - a summary of its
  ``.grad``: the values when there are few, else the norm and range; a row-sparse
  gradient says how many rows it holds;
* the tensor the walk starts from as the double-bordered output;
* every edge labelled with the shape and dtype of the tensor flowing along it.

Arrows point the way data flows in the forward pass; backward sends gradients
along the same edges in reverse, which is exactly what ``grad_fn.next_functions``
records. Inputs that need no gradient (data, indices, constants) are not
recorded in the graph, so they are not drawn.

Examples
--------
>>> import minigrad
>>> from minigrad import viz
>>> w = minigrad.tensor([1.0, 2.0], requires_grad=True)
>>> y = (w * w).sum()
>>> y.backward()
>>> print(viz.to_dot(y, params={"w": w}), end="")
digraph minigrad {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  output [label="output\n() float32", shape=ellipse, peripheries=2];
  n0 [label="SumBackward0", shape=box, style=filled, fillcolor=lightgrey];
  n1 [label="MulBackward0", shape=box, style=filled, fillcolor=lightgrey];
  n2 [label="w\n(2,) float32\ngrad: [2, 4]", shape=ellipse, style=filled, fillcolor=lightblue];
  n0 -> output [label="() float32"];
  n1 -> n0 [label="(2,) float32"];
  n2 -> n1 [label="(2,) float32"];
  n2 -> n1 [label="(2,) float32"];
}

``w`` enters ``MulBackward0`` twice (``w * w``): backward sends a gradient ``w`` back
along each of the two edges, and the leaf sums them, 2w = [2, 4].
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess

import numpy as np

from minigrad.autograd.function import Node
from minigrad.sparse import SparseTensor
from minigrad.tensor import Tensor

__all__ = ["to_dot", "render"]

_FORMATS = ("svg", "png", "pdf")


def _quote(text: str) -> str:
    """A DOT double-quoted string; newlines become DOT's centred line breaks."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _meta(shape, dtype) -> str:
    return f"{_shape(shape)} {np.dtype(dtype).name}"


def _number(x) -> str:
    return f"{float(x):.4g}"


def _grad_summary(grad) -> str:
    """One or two lines describing a gradient: its values if there are at most 6, else norm and range."""
    if isinstance(grad, SparseTensor):
        nnz = grad._nnz()
        return f"grad: sparse, {nnz} row{'s' if nnz != 1 else ''} of {_shape(grad.shape)}"
    g = np.asarray(grad._array if isinstance(grad, Tensor) else grad)
    if g.size <= 6:
        values = ", ".join(_number(v) for v in g.ravel())
        return f"grad: [{values}]" if g.ndim else f"grad: {values}"
    finite = g[np.isfinite(g)] if not np.isfinite(g).all() else g
    if finite.size == 0:
        return "grad: no finite values"
    norm = float(np.sqrt(np.sum(np.square(finite, dtype=np.float64))))
    text = f"grad: ‖g‖ = {_number(norm)}\nrange [{_number(finite.min())}, {_number(finite.max())}]"
    if g.ndim == 2:
        # For an embedding table the telling number: only looked-up rows get a gradient.
        rows = int(np.count_nonzero(np.any(g != 0, axis=1)))
        text += f"\nnonzero rows: {rows} of {g.shape[0]}"
    return text


def _param_names(params) -> dict:
    if params is None:
        return {}
    items = params.items() if hasattr(params, "items") else params
    names = {}
    for name, t in items:
        names.setdefault(id(t), str(name))
    return names


def to_dot(tensor, show_grads: bool = True, params=None) -> str:
    """Describe the graph that produced ``tensor`` in Graphviz's DOT language.

    Parameters
    ----------
    tensor : Tensor
        Where the walk starts (usually the loss). The graph is walked through
        ``grad_fn.next_functions`` with an explicit stack, so deep graphs work.
    show_grads : bool
        Add a summary of each leaf's ``.grad`` (after ``backward``) to its label.
    params : dict or iterable of (name, Tensor), optional
        Names for the leaves, e.g. ``dict(model.named_parameters())``. Unnamed
        leaves are labelled ``leaf``.

    Returns
    -------
    str
        A ``digraph``: paste it into any Graphviz viewer, or use :func:`render`.

    Raises
    ------
    TypeError
        If ``tensor`` is not a :class:`~minigrad.Tensor`.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot() expects a minigrad Tensor, got {type(tensor).__name__}")
    names = _param_names(params)
    ids: dict = {}          # id(object) -> DOT node name
    keep: list = []          # the objects behind ids, so no id is reused while we walk
    node_lines: list = []
    edge_lines: list = []

    def leaf_label(t) -> str:
        lines = [names.get(id(t), "leaf"), _meta(t.shape, t.dtype)]
        if show_grads and t._grad is not None:
            lines.append(_grad_summary(t._grad))
        return "\n".join(lines)

    def visit(obj, make_line) -> tuple:
        """The DOT name of ``obj``, and whether it is new."""
        key = id(obj)
        if key in ids:
            return ids[key], False
        name = f"n{len(ids)}"
        ids[key] = name
        keep.append(obj)
        node_lines.append(make_line(name))
        return name, True

    out_lines = ["output", _meta(tensor.shape, tensor.dtype)]
    if tensor.grad_fn is None:
        # A leaf is its own whole graph.
        root, _ = visit(tensor, lambda n: f"  {n} [label={_quote(leaf_label(tensor))}, shape=ellipse, "
                                          f"peripheries=2, style=filled, fillcolor=lightblue];")
        return _assemble(node_lines, edge_lines)

    out_name = "output"
    node_lines.append(f"  {out_name} [label={_quote(chr(10).join(out_lines))}, shape=ellipse, peripheries=2];")
    first, _ = visit(tensor.grad_fn, lambda n: f"  {n} [label={_quote(tensor.grad_fn.name())}, shape=box, "
                                              f"style=filled, fillcolor=lightgrey];")
    edge_lines.append(f"  {first} -> {out_name} [label={_quote(_meta(tensor.shape, tensor.dtype))}];")
    stack = [tensor.grad_fn]
    while stack:
        node = stack.pop()
        consumer = ids[id(node)]
        for i, nxt in enumerate(node.next_functions):
            if nxt is None:
                continue  # an input that needs no gradient is not part of the graph
            if isinstance(nxt, Node):
                producer, new = visit(nxt, lambda n, nxt=nxt: f"  {n} [label={_quote(nxt.name())}, shape=box, "
                                                               f"style=filled, fillcolor=lightgrey];")
                if new:
                    stack.append(nxt)
            else:
                producer, _ = visit(nxt, lambda n, nxt=nxt: f"  {n} [label={_quote(leaf_label(nxt))}, "
                                                             f"shape=ellipse, style=filled, fillcolor=lightblue];")
            meta = node.input_meta[i] if i < len(node.input_meta) else None
            label = f" [label={_quote(_meta(*meta))}]" if meta is not None else ""
            edge_lines.append(f"  {producer} -> {consumer}{label};")
    return _assemble(node_lines, edge_lines)


def _assemble(node_lines, edge_lines) -> str:
    head = [
        "digraph minigrad {",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    return "\n".join(head + node_lines + edge_lines + ["}"]) + "\n"


def _format_for(path: pathlib.Path, format) -> str:
    """The picture format: ``format`` if given, else ``path``'s extension; they must agree."""
    ext = path.suffix.lower().lstrip(".")
    if format is None:
        if ext not in _FORMATS:
            raise ValueError(f"cannot tell the format from {path.name!r}: name the file .svg, .png or .pdf, "
                             "or pass format=")
        return ext
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(_FORMATS)}, got {format!r}")
    if ext in _FORMATS and ext != format:
        raise ValueError(f"format={format!r} does not match the file name {path.name!r}")
    return format


def render(tensor, path, format=None, show_grads: bool = True, params=None) -> pathlib.Path:
    """Draw the graph behind ``tensor`` into ``path`` with Graphviz's ``dot`` program.

    Parameters
    ----------
    tensor : Tensor
        As for :func:`to_dot`.
    path : str or path-like
        The file to write; its extension (``.svg``, ``.png``, ``.pdf``) chooses the format.
    format : {"svg", "png", "pdf"}, optional
        The format, for a file name without one of those extensions; when both are
        given they must agree.
    show_grads, params
        As for :func:`to_dot`.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For another format, no format at all, or a ``format`` that contradicts the extension.
    RuntimeError
        When Graphviz is not installed (``dot`` not on ``PATH``), or ``dot`` fails.
    """
    path = pathlib.Path(path)
    format = _format_for(path, format)
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render() needs Graphviz's `dot` program, which is not on PATH. Install Graphviz "
            "(e.g. `apt-get install graphviz`, `brew install graphviz`, `conda install graphviz`), "
            "or call minigrad.viz.to_dot() and paste the text into any Graphviz viewer."
        )
    text = to_dot(tensor, show_grads=show_grads, params=params)
    r = subprocess.run([dot, f"-T{format}", "-o", str(path)], input=text.encode("utf-8"), capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"dot failed ({r.returncode}): {r.stderr.decode('utf-8', 'replace').strip()}")
    return path
