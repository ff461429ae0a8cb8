"""Replace function bodies by stubs, leaving every other byte of the file alone.

Python files are parsed with :mod:`ast` to find each function's exact line span;
the new text is spliced into the original lines, so formatting, comments and
everything outside the replaced bodies stay byte-identical. Cython files
(``.pyx``) are not Python: their ``def``/``cdef`` functions are found by their
header line and indentation.
"""
from __future__ import annotations

import ast
import functools
import json
import re


class StubError(ValueError):
    """A target could not be found or stubbed."""


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _is_comment_or_blank(line: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#")


def _find_def(tree: ast.Module, qualname: str, where: str):
    scope, node = tree.body, None
    for part in qualname.split("."):
        found = [
            n for n in scope
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.name == part
        ]
        if not found:
            raise StubError(f"{where}: no {part!r} in {qualname!r}")
        node = found[-1]  # the definition that wins at import time
        scope = node.body
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise StubError(f"{where}: {qualname!r} is a class, not a function")
    return node


@functools.lru_cache(maxsize=16)
def _parse(source: str) -> ast.Module:
    """``ast.parse``, remembered: grading reads many bodies out of each file (one parse per file, not per body)."""
    return ast.parse(source)


def _python_span(lines: list, source: str, qualname: str, where: str, tree=None):
    """(first line, last line + 1, indent) of the replaceable body, 0-based (``tree``: ``source`` parsed)."""
    tree = _parse(source) if tree is None else tree
    node = _find_def(tree, qualname, where)
    body = node.body
    doc = ast.get_docstring(node, clean=False) is not None
    stmts = body[1:] if doc else body
    if body[0].lineno == node.lineno:
        raise StubError(f"{where}: {qualname!r} has its body on the def line; put it on its own lines")
    indent = body[0].col_offset
    if doc:
        start = body[0].end_lineno  # 0-based index of the line after the docstring
    else:
        start = body[0].lineno - 1
        # Comments between the header and the first statement belong to the body.
        while start - 1 >= node.lineno and _is_comment_or_blank(lines[start - 1]) and (
            not lines[start - 1].strip() or _indent_of(lines[start - 1]) >= indent
        ):
            start -= 1
    end = (stmts[-1].end_lineno if stmts else body[-1].end_lineno)
    # Trailing comments indented like the body also belong to it.
    k = end
    while k < len(lines) and _is_comment_or_blank(lines[k]):
        if lines[k].strip() and _indent_of(lines[k]) >= indent:
            end = k + 1
        elif lines[k].strip():
            break
        k += 1
    return start, end, indent, not stmts


_TRIPLE = re.compile(r'^[ \t]*[rRuU]?("""|\'\'\')')


def _pyx_span(lines: list, name: str, where: str):
    header = re.compile(r"^([ \t]*)(?:cpdef|cdef|def)\b[^#(]*?\b" + re.escape(name) + r"\s*(\[[^\]]*\]\s*)?\(")
    hits = [i for i, line in enumerate(lines) if header.match(line)]
    if not hits:
        raise StubError(f"{where}: no def/cdef function {name!r}")
    if len(hits) > 1:
        raise StubError(f"{where}: {name!r} is defined {len(hits)} times")
    i = hits[0]
    def_indent = _indent_of(lines[i])
    # The header ends at the first ':' outside brackets (signatures may span lines).
    depth, j, done = 0, i, False
    while j < len(lines) and not done:
        text = lines[j].split("#", 1)[0]
        for c in text:
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
            elif c == ":" and depth == 0:
                done = True
                break
        j += 1
    if not done:
        raise StubError(f"{where}: cannot find the end of {name!r}'s header")
    start = j
    end = start
    while end < len(lines) and (_is_comment_or_blank(lines[end]) or _indent_of(lines[end]) > def_indent):
        end += 1
    while end > start and _is_comment_or_blank(lines[end - 1]):
        end -= 1  # leave the blank lines between functions alone
    if end == start:
        raise StubError(f"{where}: {name!r} has no body on lines of its own")
    first = start
    while first < end and _is_comment_or_blank(lines[first]):
        first += 1
    indent = _indent_of(lines[first])
    m = _TRIPLE.match(lines[first])
    empty_after_doc = False
    if m:
        quote = m.group(1)
        rest = lines[first][m.end():]
        k = first
        if quote not in rest:
            k += 1
            while k < end and quote not in lines[k]:
                k += 1
        start = k + 1
        empty_after_doc = start >= end
    return start, end, indent, empty_after_doc


def stub_source(source: str, targets, message: str, kind: str = "raise", pyx: bool = False,
                where: str = "<source>") -> str:
    """Return ``source`` with the body of each function in ``targets`` replaced.

    Parameters
    ----------
    source : str
        The file's text.
    targets : iterable of str
        Qualified names (``"Mul.backward"``); in ``.pyx`` files plain names.
    message : str
        ``"Task 1.1: <title>"``: the text of the NotImplementedError (or comment).
    kind : {"raise", "pass"}
        ``"pass"`` leaves an empty body (for C functions that cannot raise).
    pyx : bool
        Treat ``source`` as Cython.

    The signature, decorators and docstring are kept; the rest of the body
    (comments included) becomes the stub. Everything else is unchanged.
    """
    return stub_many(source, [(qualname, message, kind, where) for qualname in targets], pyx=pyx)


def stub_many(source: str, stubs, pyx: bool = False) -> str:
    """:func:`stub_source` for several functions, each with its own ``(qualname, message, kind, where)``.

    The file is parsed once for all of them (a student copy stubs dozens of functions
    in one file: parsing once per function cost most of a build).
    """
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    tree = None if pyx else _parse(source)
    spans = []
    for qualname, message, kind, where in stubs:
        if pyx:
            span = _pyx_span(lines, qualname, where)
        else:
            span = _python_span(lines, source, qualname, where, tree)
        spans.append((span, qualname, message, kind, where))
    spans.sort(key=lambda s: s[0][0])
    for k in range(1, len(spans)):
        if spans[k][0][0] < spans[k - 1][0][1]:
            raise StubError(f"{spans[k][4]}: {spans[k][1]!r} lies inside {spans[k - 1][1]!r}")
    for (start, end, indent, _), qualname, message, kind, where in reversed(spans):
        pad = " " * indent
        if kind == "pass":
            body = f"{pad}pass  # {message} (not implemented yet)"
        else:
            body = f"{pad}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"
        lines[start:end] = [body + newline]
    return "".join(lines)
