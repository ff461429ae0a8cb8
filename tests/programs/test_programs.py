"""PyTorch programs run unchanged on minigrad: each source file is run with ``import torch`` and again with
its import lines rewritten to minigrad (``import minigrad as torch``, ``from minigrad.utils.data import ...``)
and nothing else changed.

The PyTorch run goes first and hands its initial weights to the minigrad run
(``main(init=...)``), since the two libraries' random streams differ; from
there every loss must agree to float32 rounding.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

HERE = Path(__file__).resolve().parent
PROGRAMS = ["bigram", "mlp_chars", "ngram", "polynomial", "tabular", "legendre"]


def to_minigrad(source: str) -> str:
    """Rewrite the import lines (only those) from torch to minigrad."""
    def rewrite(match):
        kind, module, rest = match.group(1), match.group(2), match.group(3)
        target = "minigrad" + module[len("torch"):]
        if kind == "import" and module == "torch" and not rest:
            return "import minigrad as torch"
        return f"{kind} {target}{rest}"

    return re.sub(r"^(import|from) (torch(?:\.[\w.]+)?)(.*)$", rewrite, source, flags=re.MULTILINE)


def run(name: str, minigrad: bool, **kwargs):
    source = (HERE / f"{name}.py").read_text(encoding="utf-8")
    if minigrad:
        rewritten = to_minigrad(source)
        changed = [(a, b) for a, b in zip(source.splitlines(), rewritten.splitlines()) if a != b]
        assert changed and all(re.match(r"(import|from) torch", a) for a, _ in changed)
        source = rewritten
    namespace = {"__name__": f"program_{name}"}
    sys.path.insert(0, str(HERE))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: thread start-up would dominate, and CI machines are shared
    try:
        exec(compile(source, str(HERE / f"{name}.py"), "exec"), namespace)
        return namespace["main"](**kwargs)
    finally:
        torch.set_num_threads(threads)
        sys.path.remove(str(HERE))


def test_imports_are_rewritten_line_by_line():
    src = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.utils.data import DataLoader\n"
    assert to_minigrad(src) == (
        "import minigrad as torch\nimport minigrad.nn as nn\nimport minigrad.nn.functional as F\n"
        "from minigrad.utils.data import DataLoader\n"
    )


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_gives_pytorchs_losses_from_the_same_initial_weights(name):
    want, init = run(name, minigrad=False)
    got, _ = run(name, minigrad=True, init=init)
    assert len(got) == len(want) >= 10
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
