"""Find a stubbed function's solution anywhere in a student copy.

Each Python target's solution body is compared, as a normalised syntax tree,
with every run of statements in the copy: its ``.py`` files (code and the code in
their docstrings), the code blocks and doctests of ``.rst``/``.md``/``.txt``
files, and notebooks' cells. Normalising means:

* every variable, argument and function name becomes a placeholder numbered by
  first use (``a, b = ctx.saved_tensors`` and ``x, y = c.saved_tensors`` are the
  same); attribute names, constants and operators are kept;
* docstrings and comments are dropped, and so is the formatting;
* gating on ``ctx.needs_input_grad`` is dropped (``g * b if need_a else None``
  is ``g * b``): skipping an unneeded gradient is an optimisation, and the
  worked example without it still gives the answer away.

Solutions smaller than :data:`MIN_NODES` syntax-tree nodes after normalising
(``return d * d``) are too generic to be told from ordinary code and are not
looked for. Cython targets are compared as text with comments and whitespace
removed.
"""
from __future__ import annotations

import ast
import dataclasses
import json
import pathlib
import re
import textwrap

from minigrad.course import _spec
from minigrad.course._transplant import body_text

#: Solutions with fewer nodes than this (after normalising) are not looked for.
MIN_NODES = 8

_TEXT_SUFFIXES = (".rst", ".md", ".txt", ".ipynb")


@dataclasses.dataclass(frozen=True)
class Leak:
    """Task ``task_id``'s solution of ``target`` found in ``file`` at ``line``."""

    task_id: str
    target: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: the solution of task {self.task_id} ({self.target})"


# -- normalising ---------------------------------------------------------------------------------
def _gates(stmts) -> set:
    """Names bound from ``ctx.needs_input_grad`` in ``stmts``."""
    names = set()
    for s in stmts:
        if isinstance(s, ast.Assign) and _reads_needs(s.value):
            for t in s.targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def _reads_needs(node) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "needs_input_grad" for n in ast.walk(node))


class _Ungate(ast.NodeTransformer):
    def __init__(self, gates):
        self.gates = gates

    def _is_gate(self, test) -> bool:
        if _reads_needs(test):
            return True
        names = {n.id for n in ast.walk(test) if isinstance(n, ast.Name)}
        return bool(names) and names <= self.gates

    def visit_IfExp(self, node):
        self.generic_visit(node)
        if isinstance(node.orelse, ast.Constant) and node.orelse.value is None and self._is_gate(node.test):
            return node.body
        return node


def _clean(stmts, gates) -> list:
    out = []
    for s in stmts:
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
            continue  # a docstring
        if isinstance(s, ast.Pass):
            continue
        if isinstance(s, ast.Assign) and _reads_needs(s.value):
            continue
        if isinstance(s, ast.If) and not s.orelse and _Ungate(gates)._is_gate(s.test):
            out.extend(_clean(s.body, gates))
            continue
        out.append(_Ungate(gates).visit(s))
    return out


def _shape(stmt) -> str:
    """The statement's dump with every name erased (renaming-independent), for a first filter."""
    return re.sub(r"(id|arg|name)='[^']*'", r"\1=_", ast.dump(stmt))


def _canonical(stmts) -> str:
    """The dump of ``stmts`` with names numbered by first use."""
    mapping = {}

    def rename(m):
        name = m.group(2)
        if name not in mapping:
            mapping[name] = f"v{len(mapping)}"
        return f"{m.group(1)}='{mapping[name]}'"

    return "\n".join(re.sub(r"(id|arg|name)='([^']*)'", rename, ast.dump(s)) for s in stmts)


def _size(stmts) -> int:
    return sum(1 for s in stmts for n in ast.walk(s) if not isinstance(n, (ast.expr_context, ast.operator)))


def _statement_lists(tree):
    """Every list of statements in ``tree`` (module, function, class, loop and branch bodies), cleaned."""
    gates_of = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            g = _gates(ast.walk(node))
            gates_of[id(node)] = g
    all_gates = set().union(*gates_of.values()) if gates_of else set()
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                yield _clean(stmts, gates_of.get(id(node), all_gates))


# -- where code hides in text ----------------------------------------------------------------------
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_DIRECTIVE = re.compile(r"^[ \t]*\.\. (code-block|code|sourcecode|testcode|doctest|ipython)::")


def code_snippets(text: str):
    """``(first line, code)`` of each code block, doctest and literal block in reST/Markdown ``text``."""
    lines = text.splitlines()
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith(">>>"):
            start, code = i, []
            while i < n and (lines[i].strip().startswith((">>>", "...")) and lines[i].strip()[:4] in (">>> ", "... ", ">>>", "...")):
                s = lines[i].strip()
                code.append(s[4:] if len(s) > 3 else "")
                i += 1
            yield start + 1, "\n".join(code) + "\n"
            continue
        if _FENCE.match(line):
            fence = _FENCE.match(line).group(1)
            start, code = i + 1, []
            i += 1
            while i < n and not lines[i].strip().startswith(fence):
                code.append(lines[i])
                i += 1
            i += 1
            yield start + 1, textwrap.dedent("\n".join(code)) + "\n"
            continue
        if stripped.endswith("::") or _DIRECTIVE.match(line):
            indent = len(line) - len(line.lstrip())
            i += 1
            while i < n and (lines[i].strip().startswith(":") or not lines[i].strip()):
                i += 1  # directive options and the blank line
            start, code = i, []
            while i < n and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
                code.append(lines[i])
                i += 1
            if code:
                yield start + 1, textwrap.dedent("\n".join(code)) + "\n"
            continue
        i += 1


def _parse(code: str):
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError):
        return None


def _trees(name: str, text: str):
    """``(line offset, tree)`` of every piece of Python in one file of the copy."""
    if name.endswith(".py"):
        tree = _parse(text)
        if tree is None:
            return
        yield 0, tree
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "\n" in node.value:
                for line, code in code_snippets(node.value):
                    sub = _parse(code)
                    if sub is not None:
                        yield node.lineno + line - 2, sub
    elif name.endswith(".ipynb"):
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return
        for k, cell in enumerate(cells):
            src = "".join(cell.get("source", []))
            if cell.get("cell_type") == "code":
                src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
                sub = _parse(src)
                if sub is not None:
                    yield k, sub
            else:
                for _, code in code_snippets(src):
                    sub = _parse(code)
                    if sub is not None:
                        yield k, sub
    else:
        for line, code in code_snippets(text):
            sub = _parse(code)
            if sub is not None:
                yield line - 1, sub


def _pyx_text(text: str) -> str:
    return " ".join(line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip())


# -- the check -------------------------------------------------------------------------------------
def solutions(root, tasks) -> dict:
    """``{target: (task id, normalised statements or pyx text)}`` of the targets worth looking for."""
    out = {}
    for task in tasks:
        for target in task.targets:
            path, qualname = target.split("::", 1)
            source = (pathlib.Path(root) / path).read_text(encoding="utf-8")
            body = body_text(source, qualname, pyx=path.endswith(".pyx"), where=path)
            if path.endswith(".pyx"):
                flat = _pyx_text(body)
                if len(flat) >= 40:
                    out[target] = (task.id, flat)
                continue
            tree = ast.parse(body)
            stmts = _clean(tree.body, _gates(ast.walk(tree)))
            if stmts and _size(stmts) >= MIN_NODES:
                out[target] = (task.id, stmts)
    return out


def find_leaks(set_name: str = "starter", *, root=None, tasks_path=None, files=None) -> list:
    """Every place in the student copy of ``set_name`` that holds a stubbed function's solution.

    Parameters
    ----------
    files : dict, optional
        ``{relative path: text}`` of the copy; default: what ``build`` would
        write (nothing is written).
    """
    from minigrad.course._build import repo_root, student_files, stubbed_files

    root = pathlib.Path(root) if root is not None else repo_root()
    taskset = _spec.load(tasks_path)[set_name]
    if files is None:
        new = stubbed_files(root, taskset.tasks)
        files = {}
        for name in student_files(root, taskset):
            if not name.endswith((".py", ".pyx") + _TEXT_SUFFIXES) \
                    and pathlib.Path(name).name not in ("README", "README.md", "README.rst"):
                continue
            if name in new:
                files[name] = new[name]
            else:
                try:
                    files[name] = (root / name).read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
    wanted = solutions(root, taskset.tasks)
    py = {t: v for t, v in wanted.items() if not isinstance(v[1], str)}
    pyx = {t: v for t, v in wanted.items() if isinstance(v[1], str)}
    by_shape = {}
    for target, (task_id, stmts) in py.items():
        by_shape.setdefault(_shape(stmts[0]), []).append((target, task_id, stmts, _canonical(stmts)))
    leaks = set()
    for name, text in files.items():
        for target, (task_id, flat) in pyx.items():
            if flat in _pyx_text(text):
                leaks.add(Leak(task_id, target, name, 0))
        if not py:
            continue
        for offset, tree in _trees(name, text):
            for stmts in _statement_lists(tree):
                shapes = [_shape(s) for s in stmts]
                for i, sh in enumerate(shapes):
                    for target, task_id, want, canon in by_shape.get(sh, ()):
                        k = len(want)
                        if i + k <= len(stmts) and _canonical(stmts[i:i + k]) == canon:
                            leaks.add(Leak(task_id, target, name, offset + getattr(stmts[i], "lineno", 0)))
    return sorted(leaks, key=lambda leak: (leak.file, leak.line, leak.target))
