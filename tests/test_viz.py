"""minigrad.viz: the computation graph as Graphviz DOT text, and rendered when Graphviz is installed."""
from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad
from minigrad import nn, viz
from minigrad.autograd.function import Node

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
EDGE = re.compile(r'^  (\w+) -> (\w+)(?: \[label="((?:[^"\\]|\\.)*)"\])?;$')


def parse(dot: str):
    """{name: (label lines, attributes)} and [(tail, head, label)] of a DOT text from to_dot."""
    lines = dot.splitlines()
    assert lines[0] == "digraph minigrad {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        m = EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), (m.group(3) or "").replace("\\n", "\n")))
            continue
        m = NODE.match(line)
        if m:
            assert m.group(1) not in nodes, f"node {m.group(1)} defined twice"
            nodes[m.group(1)] = (m.group(2).split("\\n"), m.group(3))
    for tail, head, _ in edges:
        assert tail in nodes and head in nodes, f"edge {tail} -> {head} names an undefined node"
    return nodes, edges


def by_first_line(nodes):
    out = {}
    for name, (label, _) in nodes.items():
        out.setdefault(label[0], []).append((name, label))
    return out


def test_a_small_graph_shows_ops_leaves_shapes_dtypes_and_edges():
    x = minigrad.tensor(np.ones((2, 3)), requires_grad=True)           # float64
    w = minigrad.tensor(np.ones((3,), np.float32), requires_grad=True)
    y = (x * w.double()).sum()
    nodes, edges = parse(viz.to_dot(y, params={"x": x, "w": w}))
    named = by_first_line(nodes)
    assert set(named) == {"output", "SumBackward0", "MulBackward0", "ToCopyBackward0", "x", "w"}
    assert named["x"][0][1][1] == "(2, 3) float64"
    assert named["w"][0][1][1] == "(3,) float32"
    assert named["output"][0][1][1] == "() float64"
    name = {k: v[0][0] for k, v in named.items()}
    flows = {(t, h): label for t, h, label in edges}
    # Arrows follow the forward pass, labelled with the tensor that flows along them.
    assert flows[(name["SumBackward0"], name["output"])] == "() float64"
    assert flows[(name["MulBackward0"], name["SumBackward0"])] == "(2, 3) float64"
    assert flows[(name["x"], name["MulBackward0"])] == "(2, 3) float64"
    assert flows[(name["ToCopyBackward0"], name["MulBackward0"])] == "(3,) float64"
    assert flows[(name["w"], name["ToCopyBackward0"])] == "(3,) float32"
    assert len(edges) == 5


def test_gradients_appear_after_backward_and_only_when_asked():
    w = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w * w).sum()
    before, _ = parse(viz.to_dot(y, params={"w": w}))
    assert not any(line.startswith("grad") for label, _ in before.values() for line in label)
    y.backward()
    after, _ = parse(viz.to_dot(y, params={"w": w}))
    (leaf,) = [label for label, _ in after.values() if label[0] == "w"]
    assert leaf[2] == "grad: [2, 4, 6]"
    hidden, _ = parse(viz.to_dot(y, show_grads=False, params={"w": w}))
    assert not any(line.startswith("grad") for label, _ in hidden.values() for line in label)


def test_a_large_gradient_is_summarised_by_norm_range_and_touched_rows():
    emb = nn.Embedding(10, 4)
    idx = minigrad.tensor([1, 3, 1])
    loss = emb(idx).sum()
    loss.backward()
    nodes, edges = parse(viz.to_dot(loss, params=emb.named_parameters()))
    named = by_first_line(nodes)
    label = named["weight"][0][1]
    g = emb.weight.grad.numpy()
    assert label[1] == "(10, 4) float32"
    assert label[2] == f"grad: ‖g‖ = {float(np.linalg.norm(g)):.4g}"
    assert label[3] == f"range [{g.min():.4g}, {g.max():.4g}]"
    assert label[4] == "nonzero rows: 2 of 10"
    assert "EmbeddingBackward0" in named
    # The indices need no gradient: they are not part of the recorded graph.
    assert len(nodes) == 4 and len(edges) == 3


def test_a_sparse_gradient_says_how_many_rows_it_holds():
    emb = nn.Embedding(10, 4, sparse=True)
    loss = emb(minigrad.tensor([1, 3, 1])).sum()
    loss.backward()
    nodes, _ = parse(viz.to_dot(loss, params={"emb.weight": emb.weight}))
    (label,) = [label for label, _ in nodes.values() if label[0] == "emb.weight"]
    assert label[2] == "grad: sparse, 3 rows of (10, 4)"


def test_a_node_used_twice_is_drawn_once_with_an_edge_per_use():
    x = minigrad.tensor([0.5, -1.0], requires_grad=True)
    h = x.exp()
    y = (h * h + h).sum()
    nodes, edges = parse(viz.to_dot(y))
    exp_nodes = [name for name, (label, _) in nodes.items() if label[0] == "ExpBackward0"]
    assert len(exp_nodes) == 1
    assert sum(1 for tail, _, _ in edges if tail == exp_nodes[0]) == 3  # twice into Mul, once into Add
    leaves = [label for label, _ in nodes.values() if label[0] == "leaf"]
    assert leaves == [["leaf", "(2,) float32"]]


def test_a_leaf_alone_is_one_output_node():
    w = minigrad.tensor([[1.0, 2.0]], requires_grad=True)
    nodes, edges = parse(viz.to_dot(w, params={"w": w}))
    assert edges == []
    ((label, attrs),) = nodes.values()
    assert label == ["w", "(1, 2) float32"] and "peripheries=2" in attrs


def test_a_deep_chain_is_walked_without_recursion():
    x = minigrad.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    nodes, edges = parse(viz.to_dot(y))
    assert len(nodes) == 20_000 + 2 and len(edges) == 20_000 + 1


@given(ops=st.lists(st.sampled_from(["exp", "tanh", "mul_x", "add_x", "sum_keep", "neg"]), min_size=1, max_size=12))
def test_edges_equal_the_recorded_inputs_that_need_gradients(ops):
    x = minigrad.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = x
    for op in ops:
        y = {"exp": lambda t: t.tanh().exp(), "tanh": lambda t: t.tanh(), "mul_x": lambda t: t * x,
             "add_x": lambda t: t + x, "sum_keep": lambda t: t.sum(dim=1, keepdim=True) * x,
             "neg": lambda t: -t}[op](y)
    # Count the graph independently: distinct nodes and their non-None inputs.
    seen, stack, n_edges = {id(y.grad_fn)}, [y.grad_fn], 1
    while stack:
        node = stack.pop()
        for nxt in node.next_functions:
            if nxt is None:
                continue
            n_edges += 1
            if isinstance(nxt, Node) and id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    nodes, edges = parse(viz.to_dot(y))
    assert len(edges) == n_edges
    assert len(nodes) == len(seen) + 2  # + the output and the one leaf


def test_labels_with_quotes_and_backslashes_are_escaped():
    w = minigrad.tensor([1.0], requires_grad=True)
    dot = viz.to_dot(w * 2.0, params={'say "hi" \\ there': w})
    nodes, _ = parse(dot)
    assert any(label[0] == 'say \\"hi\\" \\\\ there' for label, _ in nodes.values())


def test_to_dot_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="expects a minigrad Tensor"):
        viz.to_dot(np.ones(3))


def test_render_without_graphviz_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    w = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Graphviz"):
        viz.render(w * 2.0, tmp_path / "g.svg")


def test_render_rejects_unknown_formats(tmp_path):
    w = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="format must be one of svg, png, pdf"):
        viz.render(w * 2.0, tmp_path / "g.jpg", format="jpg")


@pytest.fixture
def fake_dot(monkeypatch):
    """Record the command render() would run, as if Graphviz were installed."""
    calls = []
    monkeypatch.setattr(viz.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(viz.subprocess, "run",
                        lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0, b"", b""))
    return calls


@pytest.mark.parametrize("name, fmt", [("graph.png", "png"), ("graph.PDF", "pdf"), ("graph.svg", "svg")])
def test_render_takes_the_format_from_the_file_extension(tmp_path, fake_dot, name, fmt):
    w = minigrad.tensor([1.0], requires_grad=True)
    viz.render(w * 2.0, tmp_path / name)
    assert fake_dot[0][1] == f"-T{fmt}"


def test_render_refuses_a_format_that_contradicts_the_extension(tmp_path, fake_dot):
    w = minigrad.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="does not match"):
        viz.render(w * 2.0, tmp_path / "graph.png", format="svg")
    with pytest.raises(ValueError, match="cannot tell the format"):
        viz.render(w * 2.0, tmp_path / "graph")
    viz.render(w * 2.0, tmp_path / "graph", format="svg")
    assert fake_dot == [[fake_dot[0][0], "-Tsvg", "-o", str(tmp_path / "graph")]]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("fmt, magic", [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_render_writes_the_picture_with_dot(tmp_path, fmt, magic):
    w = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    y.backward()
    path = viz.render(y, tmp_path / f"graph.{fmt}", format=fmt, params={"w": w})
    data = path.read_bytes()
    assert magic in data[:400]
    if fmt == "svg":
        assert "MulBackward0" in data.decode("utf-8")
