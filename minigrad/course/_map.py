"""The course map: which tasks each task needs first, measured, and drawn.

Task T *needs* task X when T's grading tests call a function of X: in a
student copy where X is still a stub, T's tests stop there and the student
reads ``needs Task X (...) first`` (``tests/conftest.py``). The map measures
exactly that, in one grading run over the solution: for each task T, every
other task's functions start by reporting themselves to the grading plugin,
and T's tests run. (Cython functions run without the GIL and are not
measured.)

``python -m minigrad.course map starter --out docs/course`` writes the data
(``course_map.json``) and the picture (``course_map.png``: assignments as
columns, tasks as boxes, an arrow from each task to the tasks it unlocks).
"""
from __future__ import annotations

import json
import pathlib
import textwrap

from minigrad.course import _spec, _transplant
from minigrad.course._grade import GradeReport, Unit, _is_pyx, _task_result, run_with_submissions

#: File names written by :func:`write`.
DATA, PICTURE = "course_map.json", "course_map.png"


def measure(set_name: str = "starter", *, root=None, tasks_path=None, timeout=None) -> dict:
    """``{task id: sorted ids of the tasks whose functions its grading tests call}``."""
    return measure_and_grade(set_name, root=root, tasks_path=tasks_path, timeout=timeout)[0]


def measure_and_grade(set_name: str = "starter", *, submissions=(), root=None, tasks_path=None, timeout=None):
    """The map's measuring run, which also grades ``submissions`` (one grading tree, one run).

    Returns ``(needs, solution, reports)``: ``needs`` as :func:`measure` gives it,
    ``solution`` the :class:`~minigrad.course._grade.GradeReport` of the measuring run
    itself (the solution, every function reporting itself: the grade of the solution),
    and one report per submission. CI's full check uses one run for both answers.
    """
    from minigrad.course._build import repo_root

    root = pathlib.Path(root) if root is not None else repo_root()
    sets = _spec.load(tasks_path)
    taskset = sets[set_name]
    instrumented = {}
    for task in taskset.tasks:
        for target in task.targets:
            path, qualname = target.split("::", 1)
            if _is_pyx(path):
                continue
            body = _transplant.body_text((root / path).read_text(encoding="utf-8"), qualname, where=path)
            instrumented[target] = (task.id, f'__import__("{_transplant.SWITCH_MODULE}").reached({task.id!r})\n'
                                             + body)
    units = [Unit(t, {target: body for target, (owner, body) in instrumented.items() if owner != t.id})
             for t in taskset.tasks]
    run, reports = run_with_submissions(taskset, sets, units, submissions, root=root, tasks_path=tasks_path,
                                        timeout=timeout)
    if run["build_failed"]:
        raise RuntimeError(run["build_failed"])
    needs = {u.task.id: sorted(run["reached"].get(u.key(), ()) - {u.task.id}, key=_order) for u in units}
    solution = GradeReport(set_name, str(root), [_task_result(u, run) for u in units], run["returncode"], run["log"])
    return needs, solution, reports


def _order(task_id: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in task_id.split("."))


def data(set_name: str, needs: dict, *, tasks_path=None) -> dict:
    """The map as JSON-ready data: the set's assignments and tasks, each task with what it needs."""
    taskset = _spec.load(tasks_path)[set_name]
    titles = {a.number: a.title for a in taskset.assignments}
    return {
        "set": set_name,
        "assignments": [{"number": n, "title": titles.get(n, f"Assignment {n}")}
                        for n in sorted({t.assignment for t in taskset.tasks})],
        "tasks": [{"id": t.id, "title": t.title, "needs": list(needs.get(t.id, []))} for t in taskset.tasks],
    }


def _reach(needs) -> dict:
    """``{task: every task it needs, directly or through others}``."""
    reach = {}
    for start in needs:
        seen, stack = set(), [start]
        while stack:
            for x in needs.get(stack.pop(), ()):
                if x not in seen:
                    seen.add(x)
                    stack.append(x)
        reach[start] = seen
    return reach


def groups(tasks) -> list:
    """Tasks that need each other (their tests call one another's functions), as sorted lists.

    The engine calls the ops' backwards, and the ops' tests run the engine: in a
    student copy, none of them passes until all are written.
    """
    needs = {t["id"]: set(t["needs"]) for t in tasks}
    reach = _reach(needs)
    out = []
    for a in needs:
        group = sorted({a} | {b for b in reach[a] if a in reach.get(b, ())}, key=_order)
        if len(group) > 1 and group not in out:
            out.append(group)
    return out


def unlock_edges(tasks) -> list:
    """The arrows of the picture: ``(X, T)`` where T needs X and no other need of T already needs X.

    A group of tasks that need each other (:func:`groups`) is drawn as one: its
    arrows, in and out, meet one member, the one most tasks outside the group
    call (the group's hub), and the others carry the group's badge.
    """
    needs = {t["id"]: set(t["needs"]) for t in tasks}
    reach = _reach(needs)
    group = {a: {a} | {b for b in reach[a] if a in reach.get(b, ())} for a in needs}
    calls = {m: sum(m in needs[t] for t in needs if t not in group[m]) for m in needs}
    rep = {a: max(group[a], key=lambda m: (calls[m], _order(m))) for a in needs}
    direct = {}
    for t in needs:
        direct.setdefault(rep[t], set()).update(rep.get(x, x) for x in needs[t] - group[t])
    edges = []
    for t in sorted(direct, key=_order):
        outside = direct[t]
        kept = [r for r in outside if not any(s != r and r in reach.get(s, ()) for s in outside)]
        edges += [(r, t) for r in sorted(kept, key=_order)]
    return edges


def draw(mapdata: dict, path) -> None:
    """Draw the map into the PNG file ``path`` (matplotlib, no display needed).

    Assignments are columns, tasks boxes. An arrow to the next column goes
    straight across the gap; a longer one runs down the gap right of its
    task's column, along a lane of its own below the boxes and up the gap left
    of the other task's column, so that no arrow crosses a box.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    columns = [a["number"] for a in mapdata["assignments"]]
    tasks = mapdata["tasks"]
    rows = {}
    for t in tasks:
        rows.setdefault(int(t["id"].split(".")[0]), []).append(t)
    column_of = {t["id"]: columns.index(int(t["id"].split(".")[0])) for t in tasks}
    edges = unlock_edges(tasks)
    long = [e for e in edges if abs(column_of[e[0]] - column_of[e[1]]) != 1]
    cycles = groups(tasks)
    badge = {tid: chr(ord("A") + k) for k, g in enumerate(cycles) for tid in g}
    height = max(len(v) for v in rows.values())
    col_w, row_h, box_w, box_h, lane_h = 2.8, 0.95, 2.2, 0.62, 0.16
    gap = (col_w - box_w) / 2  # beside each box: where routed arrows run
    lanes_top = 1.25 + row_h * height
    fig_w = col_w * len(columns) + 0.4
    fig_h = lanes_top + lane_h * (len(long) + 1) + 0.35 * (1 + len(cycles)) + 0.3
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(fig_h, 0)  # y grows downwards, in inches
    ax.axis("off")
    cmap = plt.get_cmap("tab10")
    centre = {}
    for c, number in enumerate(columns):
        x = 0.2 + c * col_w + col_w / 2
        title = next(a["title"] for a in mapdata["assignments"] if a["number"] == number)
        ax.text(x, 0.42, "\n".join(textwrap.wrap(f"{number}. {title}", 30)), ha="center", va="center",
                fontsize=9, fontweight="bold", linespacing=1.15)
        ax.add_patch(FancyBboxPatch((x - col_w / 2 + 0.08, 0.8), col_w - 0.16, lanes_top - 0.85,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=cmap(c % 10), alpha=0.08,
                                    edgecolor="none"))
        for r, t in enumerate(rows.get(number, [])):
            y = 1.3 + r * row_h
            centre[t["id"]] = (x, y)
            ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                        boxstyle="round,pad=0,rounding_size=0.06", facecolor="white",
                                        edgecolor=cmap(c % 10), linewidth=1.5, zorder=3))
            name = t["title"].split(":")[0]
            if len(name) > 36:
                name = name[:35] + "…"
            label = t["id"] + (f"  ↻{badge[t['id']]}" if t["id"] in badge else "")
            ax.text(x, y - 0.12, label, ha="center", va="center", fontsize=9, fontweight="bold", zorder=4)
            ax.text(x, y + 0.13, name, ha="center", va="center", fontsize=7.5, zorder=4)
    # Several arrows leaving (or reaching) one side of a box are spread along it.
    sides = {}
    for a, b in edges:
        straight = (a, b) not in long
        right = column_of[b] > column_of[a] or not straight  # routed arrows leave to the right
        sides.setdefault((a, right), []).append((a, b))
        sides.setdefault((b, (column_of[b] < column_of[a]) if straight else False), []).append((a, b))

    def at(task_id, right, edge):
        x, y = centre[task_id]
        group = sides[(task_id, right)]
        return x + (box_w / 2 if right else -box_w / 2), y + ((group.index(edge) + 1) / (len(group) + 1) - 0.5) \
            * box_h * 0.8

    for a, b in edges:
        backwards = column_of[a] > column_of[b]
        style = dict(color="tab:red", linestyle="dashed") if backwards else dict(color="0.3", linestyle="solid")
        if (a, b) not in long:  # to the next column, across the gap between them
            start, end = at(a, not backwards, (a, b)), at(b, backwards, (a, b))
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=1.0, zorder=2,
                                         shrinkA=1, shrinkB=1, **style))
            continue
        # Out of the right side, down the gap right of the column, along a lane of its own under the
        # boxes, up the gap left of the target's column, into its left side.
        k = long.index((a, b))
        lane = lanes_top + lane_h * (k + 0.5)
        leaving = [e for e in long if column_of[e[0]] == column_of[a]]
        arriving = [e for e in long if column_of[e[1]] == column_of[b]]
        (xa, ya), (xb, yb) = at(a, True, (a, b)), at(b, False, (a, b))
        down = xa + gap * (0.15 + 0.7 * (leaving.index((a, b)) + 0.5) / len(leaving))
        up = xb - gap * (0.15 + 0.7 * (arriving.index((a, b)) + 0.5) / len(arriving))
        ax.plot([xa, down, down, up, up], [ya, ya, lane, lane, yb], linewidth=1.0, zorder=2, **style)
        ax.add_patch(FancyArrowPatch((up, yb), (xb, yb), arrowstyle="-|>", mutation_scale=10, linewidth=1.0,
                                     zorder=2, shrinkA=0, shrinkB=1, **style))
    y = lanes_top + lane_h * (len(long) + 1) + 0.1
    legend = ["An arrow X → T: task T's grading tests call task X's functions, so in a student copy T's tests "
              "wait for X (the grader uses the reference for X: T scores on its own)."]
    if any(column_of[a] > column_of[b] for a, b in edges):
        legend[0] += "  Dashed red: X comes in a later assignment."
    legend += [f"↻{badge[g[0]]}: tasks {', '.join(g)} call one another's functions in their tests: "
               "in a student copy they pass together." for g in cycles]
    for line in legend:
        ax.text(0.25, y, line, fontsize=8.5, va="center", color="0.2")
        y += 0.35
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


def write(set_name: str, out, *, root=None, tasks_path=None, timeout=None) -> tuple:
    """Measure the map of ``set_name`` and write :data:`DATA` and :data:`PICTURE` into ``out``."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mapdata = data(set_name, measure(set_name, root=root, tasks_path=tasks_path, timeout=timeout),
                   tasks_path=tasks_path)
    (out / DATA).write_text(json.dumps(mapdata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    draw(mapdata, out / PICTURE)
    return out / DATA, out / PICTURE
