"""How long ``import minigrad, minigrad.nn, minigrad.optim`` takes next to ``import torch``, in one run.

Usage::

    python benchmarks/bench_import.py [--repeats 7]

Each import runs in a fresh interpreter and times the import statement alone
(interpreter start-up excluded); the median of ``--repeats`` runs is reported,
alternating the two so that a change of load hits both. Both run with bytecode
caches written (one untimed import comes first), as after any install: pip
compiles torch's caches on install. The minigrad imported is the one
``benchmarks/_which.py`` reports. Target: torch / minigrad ≥ 10.
"""
import argparse
import os
import statistics
import subprocess
import sys

_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

#: What a training script imports: the package, layers and optimizers.
MINIGRAD = "minigrad, minigrad.nn, minigrad.optim"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = _ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # caches are written by the untimed first import
    return env


def _once(module, env) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def import_times(repeats: int) -> tuple:
    """Median seconds of ``import minigrad, minigrad.nn, minigrad.optim`` and of ``import torch``."""
    env = _env()
    _once(MINIGRAD, env), _once("torch", env)
    mg, tt = [], []
    for _ in range(repeats):
        mg.append(_once(MINIGRAD, env))
        tt.append(_once("torch", env))
    return statistics.median(mg), statistics.median(tt)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, _ROOT)
    from _which import require_compiled_kernels

    require_compiled_kernels()
    t_mg, t_tt = import_times(args.repeats)
    print(f"import (fresh interpreter, median of {args.repeats}): minigrad + nn + optim {t_mg * 1e3:.0f} ms, "
          f"torch {t_tt * 1e3:.0f} ms, torch / minigrad = {t_tt / t_mg:.1f}x (target ≥ 10x)")


if __name__ == "__main__":
    main()
