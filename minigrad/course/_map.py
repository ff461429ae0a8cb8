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

from minigrad.course import _spec, _transplant
from minigrad.course._grade import Unit, _is_pyx, run_units

#: File names written by :func:`write`.
DATA, PICTURE = "course_map.json", "course_map.png"


def measure(set_name: str = "starter", *, root=None, tasks_path=None, timeout=None) -> dict:
    """``{task id: sorted ids of the tasks whose functions its grading tests call}``."""
    from minigrad.course._build import repo_root

    root = pathlib.Path(root) if root is not None else repo_root()
    taskset = _spec.load(tasks_path)[set_name]
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
    run = run_units(taskset, units, root=root, tasks_path=tasks_path, timeout=timeout)
    if run["build_failed"]:
        raise RuntimeError(run["build_failed"])
    return {u.task.id: sorted(run["reached"].get(u.key(), ()) - {u.task.id}, key=_order) for u in units}


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


def unlock_edges(tasks) -> list:
    """The arrows of the picture: ``(X, T)`` where T needs X and no other need of T already needs X.

    Tasks that need each other (the engine calls ``sum_to_shape``, whose tests run
    the engine) form a group with arrows both ways; arrows out of a group leave
    from its last task, which completes it.
    """
    needs = {t["id"]: set(t["needs"]) for t in tasks}
    reach = {}
    for start in needs:
        seen, stack = set(), [start]
        while stack:
            for x in needs.get(stack.pop(), ()):
                if x not in seen:
                    seen.add(x)
                    stack.append(x)
        reach[start] = seen
    group = {a: {a} | {b for b in reach[a] if a in reach.get(b, ())} for a in needs}
    rep = {a: max(group[a], key=_order) for a in needs}
    edges = []
    for t in tasks:
        tid = t["id"]
        edges += [(x, tid) for x in sorted(needs[tid] & group[tid] - {tid}, key=_order)]
        outside = {rep.get(x, x) for x in needs[tid] - group[tid]}
        kept = [r for r in outside if not any(s != r and r in reach.get(s, ()) for s in outside)]
        edges += [(r, tid) for r in sorted(kept, key=_order)]
    return edges


def draw(mapdata: dict, path) -> None:
    """Draw the map into the PNG file ``path`` (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    columns = [a["number"] for a in mapdata["assignments"]]
    tasks = mapdata["tasks"]
    rows = {}
    for t in tasks:
        a = int(t["id"].split(".")[0])
        rows.setdefault(a, []).append(t)
    height = max(len(v) for v in rows.values())
    col_w, row_h, box_w, box_h = 2.6, 1.0, 2.2, 0.62
    fig_w, fig_h = col_w * len(columns) + 0.4, row_h * height + 1.6
    fig = plt.figure(figsize=(fig_w, fig_h), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    ax.axis("off")
    cmap = plt.get_cmap("tab10")
    centre = {}
    for c, number in enumerate(columns):
        x = 0.2 + c * col_w + col_w / 2
        title = next(a["title"] for a in mapdata["assignments"] if a["number"] == number)
        ax.text(x, fig_h - 0.35, f"{number}. {title}", ha="center", va="top", fontsize=9, fontweight="bold",
                wrap=True)
        ax.add_patch(FancyBboxPatch((x - col_w / 2 + 0.08, 0.15), col_w - 0.16, fig_h - 0.95,
                                    boxstyle="round,pad=0,rounding_size=0.08", facecolor=cmap(c % 10), alpha=0.08,
                                    edgecolor="none"))
        for r, t in enumerate(rows.get(number, [])):
            y = fig_h - 1.35 - r * row_h
            centre[t["id"]] = (x, y)
            ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h,
                                        boxstyle="round,pad=0,rounding_size=0.06", facecolor="white",
                                        edgecolor=cmap(c % 10), linewidth=1.5, zorder=3))
            name = t["title"].split(":")[0]
            if len(name) > 36:
                name = name[:35] + "…"
            ax.text(x, y + 0.1, t["id"], ha="center", va="center", fontsize=9, fontweight="bold", zorder=4)
            ax.text(x, y - 0.13, name, ha="center", va="center", fontsize=7.5, zorder=4)
    later = False
    for x_id, t_id in unlock_edges(tasks):
        (x0, y0), (x1, y1) = centre[x_id], centre[t_id]
        color, dashes = "0.3", "solid"
        if x0 == x1:  # same assignment: around the right side of the boxes
            start, end, style = (x0 + box_w / 2, y0), (x1 + box_w / 2, y1), "arc3,rad=-0.5"
        elif x0 < x1:
            start, end, style = (x0 + box_w / 2, y0), (x1 - box_w / 2, y1), "arc3,rad=0.08"
        else:  # a task of a later assignment unlocks this one
            start, end, style = (x0 - box_w / 2, y0), (x1 + box_w / 2, y1), "arc3,rad=0.08"
            color, dashes, later = "tab:red", "dashed", True
        ax.add_patch(FancyArrowPatch(start, end, connectionstyle=style, arrowstyle="-|>", mutation_scale=11,
                                     color=color, linestyle=dashes, linewidth=1.0, zorder=2, shrinkA=2, shrinkB=2))
    legend = "Arrow X → T: task T's grading tests call task X's functions, so locally T's tests wait for X."
    if later:
        legend += ("  Dashed red: X comes in a later assignment (the grader uses the reference for X, "
                   "so T scores on its own).")
    ax.text(0.25, 0.05, legend, fontsize=8.5, va="bottom", color="0.25")
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
