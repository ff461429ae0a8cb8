"""``minigrad.backends``: the answers PyTorch programs expect about accelerator back ends (none here)."""
from minigrad.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
