"""What a bare ``import minigrad`` gives: PyTorch's habits, without paying for what is not used.

``torch.nn.Linear``, ``torch.optim.Adam``, ``torch.nn.utils.clip_grad_norm_`` and
``torch.nn.functional.relu`` work after a plain ``import torch``; the same
spellings work after ``import minigrad``. The subpackages load on first use
(module ``__getattr__``), so ``import minigrad`` stays light: how light is
measured, against ``import torch``, by ``benchmarks/bench_import.py``. Each
check runs in a fresh interpreter, where nothing else has imported them yet.
"""
from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import minigrad

ROOT = Path(__file__).resolve().parent.parent


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter importing minigrad from this checkout; its stdout."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_import_minigrad_loads_neither_nn_nor_optim_nor_scipy():
    out = _fresh("""
        import sys
        import minigrad
        print(sorted(m for m in ("minigrad.nn", "minigrad.optim", "minigrad.utils", "minigrad.testing",
                                 "minigrad.viz", "minigrad.course", "scipy") if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_nn_and_optim_do_not_load_scipy_until_gelu_runs():
    out = _fresh("""
        import sys
        import minigrad
        minigrad.nn, minigrad.optim
        print("scipy" in sys.modules)
        y = minigrad.nn.GELU()(minigrad.tensor([0.0, 1.0]))
        print(round(float(y[1].item()), 4))
    """)
    assert out.split() == ["False", "0.8413"]


def test_torch_habits_work_after_a_bare_import():
    out = _fresh("""
        import minigrad
        minigrad.manual_seed(0)
        model = minigrad.nn.Linear(3, 1)
        opt = minigrad.optim.Adam(model.parameters(), lr=0.1)
        x = minigrad.randn(8, 3)
        loss = minigrad.nn.functional.relu(model(x)).sum() + minigrad.nn.functional.mse_loss(model(x), x[:, :1])
        loss.backward()
        norm = minigrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched = minigrad.optim.lr_scheduler.StepLR(opt, step_size=1)
        print(type(norm).__name__, type(sched).__name__, minigrad.nn.init.zeros_.__name__)
    """)
    assert out.split() == ["Tensor", "StepLR", "zeros_"]


def test_every_subpackage_is_an_attribute_after_import_and_so_are_its_subpackages():
    """A new subpackage must join the lazy names (or the eager imports), as torch's do."""
    packages = [m.name for m in pkgutil.iter_modules(minigrad.__path__) if m.ispkg]
    assert {"nn", "optim", "autograd", "ops"} <= set(packages)
    out = _fresh(f"""
        import importlib, pkgutil
        import minigrad
        for name in {packages!r}:
            pkg = getattr(minigrad, name)
            for sub in pkgutil.iter_modules(pkg.__path__):
                if sub.ispkg or sub.name in ("functional", "lr_scheduler", "init", "data"):
                    getattr(pkg, sub.name)
        print("ok")
    """)
    assert out.strip() == "ok"


def test_an_unknown_attribute_is_an_attribute_error():
    out = _fresh("""
        import minigrad
        print(hasattr(minigrad, "no_such_thing"), "nn" in dir(minigrad))
    """)
    assert out.split() == ["False", "True"]


def test_benchmarks_refuse_to_report_ratios_for_the_numpy_fallback():
    code = "import sys; sys.path.insert(0, 'benchmarks'); from _which import require_compiled_kernels as r; r()"
    env = {"PYTHONPATH": str(ROOT), "PATH": ""}
    fallback = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                              env={**env, "MINIGRAD_KERNELS": "numpy"})
    assert fallback.returncode == 1
    assert "kernels backend numpy" in fallback.stdout and "refusing to report ratios" in fallback.stderr
    compiled = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
    assert compiled.returncode == 0, compiled.stderr
    assert f"from {ROOT / 'minigrad'}; kernels backend cython" in compiled.stdout
