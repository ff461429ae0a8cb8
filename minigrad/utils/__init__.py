"""Utilities beside the tensor library: :mod:`minigrad.utils.data` (datasets, samplers, ``DataLoader``)."""
from minigrad.utils import data

__all__ = ["data"]
