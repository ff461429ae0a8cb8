"""Smoke test of an installed minigrad wheel, run from outside the checkout by .ci/run.

Each entry point a user of ``pip install minigrad`` meets: the package with its
compiled kernels, the PyTorch-style attributes, save/load, the course CLI (its
task list is package data) and minigrad.viz. Exits non-zero on the first failure.
"""
import os
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

checkout = Path(sys.argv[1]).resolve()

import minigrad  # noqa: E402

package = Path(minigrad.__file__).resolve().parent
assert checkout not in package.parents, f"minigrad imported from the checkout ({package}), not the wheel"
assert "site-packages" in package.parts, package
from minigrad import kernels  # noqa: E402

assert kernels.BACKEND == "cython", kernels.BACKEND
assert Path(sys.modules["minigrad._kernels"].__file__).parent == package

# Package data: what the course kit reads at run time.
for name in ("_kernels.pyx", "course/tasks.toml"):
    assert resources.files("minigrad").joinpath(name).is_file(), f"{name} is not in the wheel"

# torch habits after a bare import; one training step.
minigrad.manual_seed(0)
model = minigrad.nn.Sequential(minigrad.nn.Embedding(10, 4), minigrad.nn.Flatten(), minigrad.nn.Linear(8, 1))
opt = minigrad.optim.Adam(model.parameters(), lr=0.01)
loss = minigrad.nn.functional.mse_loss(model(minigrad.tensor([[1, 2], [3, 3]])), minigrad.zeros(2, 1))
loss.backward()
minigrad.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
opt.step()

with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "model.npz"
    minigrad.save(model.state_dict(), path)
    restored = minigrad.load(path)
    assert sorted(restored) == sorted(model.state_dict())
    for k, v in model.state_dict().items():
        assert (restored[k].numpy() == v.numpy()).all(), k

    dot = minigrad.viz.to_dot(loss, params=dict(model.named_parameters()))
    assert dot.startswith("digraph") and "Backward" in dot, dot[:200]

    def course(*args):
        return subprocess.run([sys.executable, "-m", "minigrad.course", *args], capture_output=True, text=True,
                              cwd=tmp)

    r = course("list")
    assert r.returncode == 0 and r.stdout.split()[0] == "starter", r.stdout + r.stderr
    r = course("show", "kernels")
    assert r.returncode == 0 and "_kernels.pyx" in r.stdout, r.stdout + r.stderr
    r = course("--help")
    assert r.returncode == 0 and "``" not in r.stdout, r.stdout
    # Building course material needs the solution's tests: a wheel says so instead of failing obscurely.
    r = course("build", "starter", "--out", "student")
    assert r.returncode == 2 and "not a source checkout" in r.stderr, r.stdout + r.stderr
    assert sorted(os.listdir(tmp)) == ["model.npz"], os.listdir(tmp)

print(f"installed wheel OK: minigrad {minigrad.__version__} from {package}, kernels {kernels.BACKEND}")
