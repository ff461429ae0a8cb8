"""``DataLoader``: iterate over a dataset in batches."""
from __future__ import annotations

from minigrad.utils.data.collate import default_collate, default_convert
from minigrad.utils.data.dataset import IterableDataset
from minigrad.utils.data.sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info():
    """None: minigrad loads data in the calling process, never in a worker process."""
    return None


class _InfiniteIndices:
    """What an iterable-style dataset is "sampled" with: no index, forever."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches: sample indices, fetch the samples, collate them.

    The arguments, defaults and errors are PyTorch's (``torch.utils.data.DataLoader``).

    Parameters
    ----------
    dataset : Dataset or IterableDataset
    batch_size : int or None, default 1
        ``None`` turns batching off: each sample is passed through ``collate_fn``
        (default :func:`default_convert`) on its own.
    shuffle : bool, default False
        A new random order each epoch (a :class:`RandomSampler` using ``generator``).
    sampler : Sampler or iterable, optional
        The order of the indices; excludes ``shuffle``.
    batch_sampler : Sampler or iterable of lists, optional
        Yields whole batches of indices; excludes ``batch_size``, ``shuffle``,
        ``sampler`` and ``drop_last``.
    num_workers : int, default 0
        Accepted for compatibility, but **minigrad always loads in the calling
        process**: no worker process is started whatever the value, so
        ``worker_init_fn`` is never called and :func:`get_worker_info` returns
        None. Batches, their order and their values are what ``num_workers=0``
        gives. (Worker processes would pay to pickle every batch of NumPy
        arrays back, which costs more than the small datasets minigrad is for
        take to load.)
    collate_fn : callable, optional
        Turns a list of samples into a batch (default :func:`default_collate`).
    pin_memory : bool, default False
        Accepted; there is no device memory to pin for.
    drop_last : bool, default False
        Drop a last batch shorter than ``batch_size``.
    timeout : float, default 0
        Accepted (must be non-negative); nothing waits on workers here.
    worker_init_fn : callable, optional
        Accepted; never called (there are no workers).
    multiprocessing_context : optional
        Accepted only with ``num_workers > 0``, as in PyTorch; unused.
    generator : Generator, optional
        The generator ``shuffle`` draws from.
    prefetch_factor : int, optional
        Only with ``num_workers > 0``, as in PyTorch; unused.
    persistent_workers : bool, default False
        Only with ``num_workers > 0``, as in PyTorch; unused.
    pin_memory_device : str, default ''
    in_order : bool, default True
        Batches always come in order here.

    Examples
    --------
    >>> import minigrad
    >>> from minigrad.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(minigrad.arange(6).reshape(3, 2), minigrad.tensor([0, 1, 0]))
    >>> for x, y in DataLoader(ds, batch_size=2):
    ...     print(x.shape, y.tolist())
    minigrad.Size([2, 2]) [0, 1]
    minigrad.Size([1, 2]) [0]
    >>> g = minigrad.Generator().manual_seed(0)
    >>> sorted(int(b) for b in DataLoader(range(5), batch_size=None, shuffle=True, generator=g))
    [0, 1, 2, 3, 4]
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers: int = 0, collate_fn=None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to "
                "enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(
                "multiprocessing_context can only be used with multi-process loading (num_workers > 0), but got "
                f"num_workers={num_workers}"
            )

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                    f"batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._iterable:
                sampler = _InfiniteIndices()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self._initialized = True

    def __setattr__(self, name: str, value) -> None:
        if self.__dict__.get("_initialized") and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        return self._iter_map()

    def _iter_map(self):
        dataset, collate = self.dataset, self.collate_fn
        if self.batch_sampler is None:
            for index in self.sampler:
                yield collate(dataset[index])
            return
        fetch_many = getattr(dataset, "__getitems__", None)
        for indices in self.batch_sampler:
            samples = fetch_many(indices) if callable(fetch_many) else [dataset[i] for i in indices]
            yield collate(samples)

    def _iter_stream(self):
        stream = iter(self.dataset)
        if self.batch_size is None:
            for sample in stream:
                yield self.collate_fn(sample)
            return
        while batch := [sample for _, sample in zip(range(self.batch_size), stream)]:
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
