"""Transplant function bodies: read a body out of one file, splice several into another.

Grading builds one tree from the solution in which every graded function holds
several bodies behind a switch::

    def backward(ctx, grad):
        '''docstring, kept'''
        if __import__("_minigrad_course_plugin").variant(3) == 1:
            <the student's body of task 1.1>
        elif __import__("_minigrad_course_plugin").variant(3) == 2:
            <a known-wrong body from the mutant catalogue>
        else:
            <the solution's body>

The grading plugin sets the variants of one unit (a task of one submission, or
one mutant) before each of that unit's tests, so one pytest process grades many
tasks, each against the reference everywhere else. Cython functions cannot call Python
without the GIL: there the switch reads a module-level C ``int`` that the plugin
sets through a small ``def`` appended to the file.
"""
from __future__ import annotations

import io
import re
import textwrap
import tokenize

from minigrad.course._stub import StubError, _pyx_span, _python_span

#: The module through which transplanted code asks which variant is active.
SWITCH_MODULE = "_minigrad_course_plugin"
#: In a switched .pyx file: ``_minigrad_course_select(k, v)`` sets the variant of its k-th target.
PYX_SELECT = "_minigrad_course_select"


def _span(lines, source, qualname, pyx, where):
    if pyx:
        return _pyx_span(lines, qualname, where)
    return _python_span(lines, source, qualname, where)


def body_text(source: str, qualname: str, *, pyx: bool = False, where: str = "<source>") -> str:
    """The body of ``qualname`` in ``source`` after its docstring, dedented, comments included.

    Raises
    ------
    StubError
        The function is not there.
    SyntaxError
        ``source`` is not valid Python (``pyx=False``).
    """
    lines = source.splitlines(keepends=True)
    start, end, _indent, _empty = _span(lines, source, qualname, pyx, where)
    text = "".join(lines[start:end]).replace("\r\n", "\n")
    text = textwrap.dedent(text)
    if not text.strip():
        text = "pass\n"
    return text if text.endswith("\n") else text + "\n"


def _string_continuations(text: str) -> set:
    """0-based numbers of the lines that continue a multi-line string (not to be re-indented)."""
    inside = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING and tok.end[0] > tok.start[0]:
                inside.update(range(tok.start[0], tok.end[0]))  # rows are 1-based: the lines after the first
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return inside


def indent_body(text: str, pad: str) -> str:
    """``text`` with ``pad`` before every line, except inside multi-line strings and on blank lines."""
    keep = _string_continuations(text)
    out = []
    for i, line in enumerate(text.splitlines(keepends=True)):
        out.append(line if (i in keep or not line.strip()) else pad + line)
    return "".join(out)


def switch_source(source: str, bodies: dict, *, keys: dict, pyx: bool = False, where: str = "<source>") -> str:
    """Return ``source`` with each function of ``bodies`` dispatching between variants.

    Parameters
    ----------
    bodies : dict
        ``{qualname: {variant number (1, 2, ...): body text}}``; variant 0, the
        default, is the function's own body.
    keys : dict
        ``{qualname: int}``: the number under which the switch knows the function.
    """
    if pyx:
        return _switch_pyx(source, bodies, keys, where)
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    spans = []
    for qualname, variants in bodies.items():
        if variants:
            start, end, indent, _ = _python_span(lines, source, qualname, where)
            spans.append((start, end, indent, qualname, variants))
    spans.sort()
    for (start, end, indent, qualname, variants) in reversed(spans):
        pad = " " * indent
        own = textwrap.dedent("".join(lines[start:end]).replace("\r\n", "\n"))
        if not own.strip():
            own = "pass\n"
        test = f'__import__("{SWITCH_MODULE}").variant({keys[qualname]})'
        parts = []
        for n, (number, body) in enumerate(sorted(variants.items())):
            word = "if" if n == 0 else "elif"
            parts.append(f"{pad}{word} {test} == {number}:\n" + indent_body(body, pad + "    "))
        parts.append(f"{pad}else:\n" + indent_body(own if own.endswith("\n") else own + "\n", pad + "    "))
        lines[start:end] = "".join(parts).replace("\n", newline).splitlines(keepends=True)
    return "".join(lines)


def _split_params(text: str) -> list:
    out, depth, cur = [], 0, ""
    for c in text:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += c
    if cur.strip():
        out.append(cur)
    return out


def _pyx_header(lines, name, start):
    """(header text, returns void?, parameter names) of the Cython function whose body starts at ``start``."""
    header_rx = re.compile(r"^[ \t]*(?:cpdef|cdef|def)\b[^#(]*?\b" + re.escape(name) + r"\s*(\[[^\]]*\]\s*)?\(")
    first = max(i for i in range(start) if header_rx.match(lines[i]))
    header = "".join(lines[first:start])
    ret = re.match(r"\s*(cpdef|cdef|def)\s+(?:inline\s+)?(.*?)\b" + re.escape(name) + r"\s*(\[[^\]]*\]\s*)?\(",
                   header, re.S)
    void = ret is None or ret.group(1) == "def" or ret.group(2).strip() == "void"
    open_at = header.index("(", ret.end() - 1 if ret else 0)
    depth, close_at = 0, None
    for k in range(open_at, len(header)):
        if header[k] in "([{":
            depth += 1
        elif header[k] in ")]}":
            depth -= 1
            if depth == 0:
                close_at = k
                break
    params = []
    for p in _split_params(header[open_at + 1:close_at]):
        p = p.split("=", 1)[0].replace(" not None", "").strip()
        m = re.search(r"(\w+)\s*$", p)
        if m and m.group(1) not in ("self",) and p not in ("*", "/"):
            params.append(m.group(1))
    return first, header, void, params


def _switch_pyx(source: str, bodies: dict, keys: dict, where: str) -> str:
    """Each variant becomes a function of its own (same signature, name ``<name>__mg<N>``), and the
    original body starts with a dispatch on a module-level C int (cdef declarations cannot sit in
    an ``if`` block, so the bodies cannot share one function as in Python)."""
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    edits = []
    for name, variants in bodies.items():
        if not variants:
            continue
        start, end, indent, _ = _pyx_span(lines, name, where)
        first, header, void, params = _pyx_header(lines, name, start)
        pad = " " * indent
        flag = f"_minigrad_course_v{keys[name]}"
        defs, dispatch = [], []
        for number, body in sorted(variants.items()):
            new_name = f"{name}__mg{number}"
            new_header = re.sub(r"\b" + re.escape(name) + r"(\s*(\[[^\]]*\]\s*)?\()", new_name + r"\1", header, count=1)
            defs.append(new_header.replace("\r\n", "\n") + indent_body(body, pad) + "\n\n")
            call = f"{new_name}({', '.join(params)})"
            dispatch.append(f"{pad}if {flag} == {number}:\n" + (f"{pad}    {call}\n{pad}    return\n" if void
                                                               else f"{pad}    return {call}\n"))
        edits.append((first, start, "".join(defs), "".join(dispatch)))
    for first, start, defs, dispatch in sorted(edits, reverse=True):
        lines[start:start] = dispatch.replace("\n", newline).splitlines(keepends=True)
        lines[first:first] = defs.replace("\n", newline).splitlines(keepends=True)
    text = "".join(lines)
    return _pyx_switch_globals(text, sorted(keys[q] for q in bodies if bodies[q]), newline)


_FIRST_CODE = re.compile(r"^(cimport|import|from)\b")


def _pyx_switch_globals(text: str, numbers, newline: str) -> str:
    if not numbers:
        return text
    lines = text.splitlines(keepends=True)
    at = next((i for i, line in enumerate(lines) if _FIRST_CODE.match(line)), None)
    if at is None:
        raise StubError("cannot find where the imports of the .pyx file start")
    decl = [f"cdef int _minigrad_course_v{k} = 0{newline}" for k in numbers]
    lines[at:at] = decl + [newline]
    select = [newline, newline, f"def {PYX_SELECT}(int key, int value):{newline}"]
    select += [f"    global {', '.join(f'_minigrad_course_v{k}' for k in numbers)}{newline}"]
    for k in numbers:
        select.append(f"    if key == {k}:{newline}        _minigrad_course_v{k} = value{newline}")
    if not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    return "".join(lines + select)
