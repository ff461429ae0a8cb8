"""Utilities for training modules: gradient clipping, packed sequences (``nn.utils.rnn``)."""
from minigrad.nn.utils import rnn
from minigrad.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
