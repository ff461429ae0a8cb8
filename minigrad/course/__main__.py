"""``python -m minigrad.course {list,show,build,grade}``: see :mod:`minigrad.course`."""
from __future__ import annotations

import argparse
import sys

from minigrad.course import _spec


# Plain text: argparse prints these verbatim (the module docstrings are reST, for the docs).
_DESCRIPTION = """\
Course kit: write a copy of minigrad in which chosen function bodies are
replaced by NotImplementedError stubs, and grade a student's copy with
minigrad's own tests.

Run it from a source checkout (pip install -e .), and write the copy outside it:

  python -m minigrad.course list
  python -m minigrad.course show starter
  python -m minigrad.course build starter --out ../student/
  python -m minigrad.course grade ../student/
  python -m minigrad.course grade ../student/ --json results.json   # also write the autograder file
  python -m minigrad.course mutants        # the known-wrong answers: each must be rejected
  python -m minigrad.course map starter --out docs/course   # the course map, measured and drawn
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m minigrad.course", description=_DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", metavar="FILE", help="task file (default: minigrad/course/tasks.toml)")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="print the task sets, one per line: NAME  DESCRIPTION")

    show = sub.add_parser("show", help="print the tasks of a set: id, points, title, targets, grading tests")
    show.add_argument("set")

    b = sub.add_parser("build", help="write a student copy with the set's function bodies removed")
    b.add_argument("set")
    b.add_argument("--out", required=True, metavar="DIR",
                   help="where to write the copy: a new or empty folder outside the checkout, e.g. ../student/")
    b.add_argument("--only", nargs="+", metavar="ID", help="remove only these tasks (e.g. 1.1 1.2)")
    b.add_argument("--assignment", nargs="+", type=int, metavar="N",
                   help="remove only the tasks of these assignments (one GitHub Classroom assignment each)")
    b.add_argument("--force", action="store_true", help="write into a non-empty DIR")

    g = sub.add_parser("grade", help="run each task's grading tests in DIR and print a score table")
    g.add_argument("dir", help="the student copy (what build wrote)")
    g.add_argument("--set", help="task set (default: the one DIR was built for, else the first)")
    g.add_argument("--only", nargs="+", metavar="ID", help="grade only these tasks")
    g.add_argument("--json", metavar="FILE",
                   help="also write the scores to FILE as JSON, in Gradescope's results.json layout")
    g.add_argument("--build-ext", dest="build_ext", action="store_true", default=None,
                   help="compile the Cython kernels in DIR first (default: when the set needs them)")
    g.add_argument("--no-build-ext", dest="build_ext", action="store_false")
    g.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failing test")
    g.add_argument("--timeout", type=float, help="seconds before the test run is stopped")
    g.add_argument("-j", "--workers", type=int, metavar="N",
                   help="pytest processes side by side (default: one per core, at most 2)")
    g.add_argument("--require-full", action="store_true", help="exit with status 1 unless every point is earned")
    g.add_argument("-v", "--verbose", action="store_true", help="also print pytest's output")

    cm = sub.add_parser("map", help="measure which tasks each task needs first; write course_map.json and .png")
    cm.add_argument("set", nargs="?", default="starter")
    cm.add_argument("--out", required=True, metavar="DIR", help="where to write them, e.g. docs/course")
    cm.add_argument("--timeout", type=float, help="seconds before the test run is stopped")

    m = sub.add_parser("mutants", help="grade the known-wrong answers of mutants.toml: each must be rejected")
    m.add_argument("--set", default="starter")
    m.add_argument("--only", nargs="+", metavar="NAME", help="these mutants only")
    m.add_argument("--timeout", type=float, help="seconds before the test run is stopped")
    m.add_argument("-v", "--verbose", action="store_true", help="also print each mutant's failing tests")
    m.add_argument("--every-test", action="store_true",
                   help="run all of a mutant's tests (default: stop at the first failure naming the mistake)")
    return p


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            for name, ts in _spec.load(args.tasks).items():
                print(f"{name:<10}  {ts.description}")
        elif args.command == "show":
            ts = _spec.load(args.tasks)[args.set]
            for t in ts.tasks:
                print(f"{t.id:<5} {t.points:>3g}  {t.title}   [-m {t.marker}]")
                for target in t.targets:
                    print(f"        writes  {target}")
                for test in t.tests:
                    print(f"        graded  {test}")
        elif args.command == "build":
            from minigrad.course._build import build

            only = args.only
            if args.assignment:
                ts = _spec.load(args.tasks)[args.set]
                numbers = sorted({t.assignment for t in ts.tasks})
                for n in args.assignment:
                    if n not in numbers:
                        raise KeyError(f"task set {ts.name!r} has no task in assignment {n}; its assignments: "
                                       + ", ".join(map(str, numbers)))
                only = [t.id for n in args.assignment for t in ts.tasks_of(n)] + (only or [])
            out = build(args.set, args.out, only=only, tasks_path=args.tasks, force=args.force)
            print(f"wrote the {args.set!r} student copy to {out}")
        elif args.command == "map":
            from minigrad.course import _map

            for path in _map.write(args.set, args.out, tasks_path=args.tasks, timeout=args.timeout):
                print(f"wrote {path}")
        elif args.command == "mutants":
            from minigrad.course import _mutants

            chosen = [m for m in _mutants.load_mutants(tasks_path=args.tasks) if m.set_name == args.set]
            if args.only:
                chosen = [m for m in chosen if m.name in args.only]
            results, _ = _mutants.run_mutants(args.set, chosen, tasks_path=args.tasks, timeout=args.timeout,
                                              every_test=args.every_test)
            if args.verbose:
                for r in results:
                    print(f"== {r.mutant.name}: {r.mutant.misconception}\n{r.output}\n")
            print(_mutants.table(results))
            if not all(r.rejected for r in results):
                return 1
        else:
            from minigrad.course._grade import grade

            report = grade(args.dir, args.set, only=args.only, tasks_path=args.tasks, json_path=args.json,
                           build_ext=args.build_ext, exitfirst=args.exitfirst, timeout=args.timeout,
                           workers=args.workers)
            if args.verbose:
                print(report.log)
            print(report.table())
            if args.json:
                print(f"wrote {args.json}")
            if args.require_full and report.score < report.max_score:
                return 1
    except (KeyError, ValueError, FileNotFoundError, FileExistsError, RuntimeError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
