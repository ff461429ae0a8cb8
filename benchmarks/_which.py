"""Which minigrad a benchmark is timing, printed and checked before any ratio is reported.

The benchmarks put the checkout first on ``sys.path`` so that they run from a
source tree with the kernels built in place (``python setup.py build_ext
--inplace``). A checkout without the built extension imports fine, and
minigrad then falls back to its NumPy reference kernels: a benchmark would
silently time the fallback and call it minigrad. :func:`require_compiled_kernels`
says which package and which kernels are in use, and stops the run unless they
are the compiled kernels of that same package.
"""
from __future__ import annotations

import sys
from pathlib import Path


def require_compiled_kernels() -> str:
    """Print where minigrad and its kernels come from; exit unless they are the compiled ones.

    Returns the printed line (for a results file's header).
    """
    import minigrad
    from minigrad import kernels

    package = Path(minigrad.__file__).resolve().parent
    ext = sys.modules.get("minigrad._kernels")
    ext_file = Path(ext.__file__).resolve() if ext is not None else None
    line = (f"timing minigrad {minigrad.__version__} from {package}; kernels backend {kernels.BACKEND}"
            + (f" ({ext_file.name})" if ext_file is not None else " (no compiled extension)"))
    print(line, flush=True)
    if kernels.BACKEND != "cython" or ext_file is None or ext_file.parent != package:
        sys.exit("refusing to report ratios: these benchmarks time minigrad's compiled kernels, but the "
                 f"minigrad imported from {package} uses the {kernels.BACKEND!r} backend. Build the "
                 "kernels there (`python setup.py build_ext --inplace`), or unset MINIGRAD_KERNELS.")
    return line
