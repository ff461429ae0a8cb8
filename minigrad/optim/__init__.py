"""Optimizers and learning-rate schedules, with PyTorch's names, defaults and update rules.

Every optimizer updates each parameter's array in place from ``p.grad`` in the exact order
of operations of PyTorch's single-tensor implementation, so a minigrad run and
a PyTorch run from the same start follow the same trajectory up to float
rounding. :class:`SGD` and :class:`Adagrad` also accept the row-sparse
gradients of ``Embedding(sparse=True)``, and :class:`SparseAdam` requires them.
"""
from minigrad.optim import lr_scheduler
from minigrad.optim.adagrad import Adagrad
from minigrad.optim.adam import Adam, AdamW
from minigrad.optim.optimizer import Optimizer
from minigrad.optim.rmsprop import RMSprop
from minigrad.optim.sgd import SGD
from minigrad.optim.sparse_adam import SparseAdam

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adagrad", "RMSprop", "SparseAdam", "lr_scheduler"]
