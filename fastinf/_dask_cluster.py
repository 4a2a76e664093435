"""Threads and cluster setup of the Dask engine (:mod:`fastinf.dask`).

How many Numba threads a worker's tasks get, and which threading layer is
safe in Dask's worker processes, is explained in the "Threads" section of
:mod:`fastinf.dask`; this module carries it out.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from fastinf.archive import ArchiveError

__all__ = ["safe_threading_layer", "worker_numba_threads"]


# --------------------------------------------------------------------------
# threads on the workers

_KERNEL_LOCK = threading.Lock()


def safe_threading_layer() -> str:
    """The Numba threading layer for Dask workers: 'tbb' if importable, else 'workqueue'."""
    import importlib

    try:
        importlib.import_module("numba.np.ufunc.tbbpool")
    except ImportError:
        return "workqueue"
    return "tbb"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_numba_threads(cores: int, workers: int, threads_per_worker: int = 1) -> int:
    """Numba threads per worker so that ``workers`` workers do not oversubscribe ``cores``."""
    return max(1, cores // max(1, workers * threads_per_worker))


@contextlib.contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Run with ``n`` Numba threads in this thread (the count is per thread), then restore it."""
    import numba

    config: Any = numba.config
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _ensure_safe_layer() -> str:
    """Choose a safe threading layer before this process's first parallel kernel."""
    import numba
    from numba.np.ufunc import parallel

    config: Any = numba.config
    if not parallel._is_initialized and config.THREADING_LAYER in ("default", "omp"):
        config.THREADING_LAYER = safe_threading_layer()
    return str(config.THREADING_LAYER)


def _call(fn: Any, threads: dict[str, int], *args: Any) -> Any:
    """Run ``fn(*args)`` on a worker with its share of Numba threads (see the module's notes)."""
    from distributed import get_worker

    worker = get_worker()
    layer = _ensure_safe_layer()
    n = threads.get(worker.address, 1)
    lock: Any = _KERNEL_LOCK if worker.state.nthreads > 1 and layer != "tbb" \
        else contextlib.nullcontext()
    with lock, _numba_threads(n):
        return fn(*args)


def _numba_state() -> dict[str, Any]:
    """The Numba setup a task sees on its worker (after a parallel kernel ran)."""
    import numba

    from fastinf._bootstrap import poisson_partial_sums

    poisson_partial_sums(np.arange(64.0), 8, rng=1)  # a parallel kernel
    return {"threads": numba.get_num_threads(), "layer": numba.threading_layer(),
            "env_layer": os.environ.get("NUMBA_THREADING_LAYER"), "pid": os.getpid()}


def _thread_plan(client: Any) -> dict[str, int]:
    """Numba threads of each worker: its host's cores over the Python threads on the host."""
    info = client.scheduler_info(n_workers=-1)["workers"] if _takes_n_workers(client) \
        else client.scheduler_info()["workers"]
    if not info:
        raise ArchiveError("the Dask cluster has no workers.")
    cores = client.run(_cores)
    per_host: dict[str, int] = {}
    for w in info.values():
        per_host[w["host"]] = per_host.get(w["host"], 0) + int(w["nthreads"])
    return {addr: worker_numba_threads(int(cores.get(addr, 1)), per_host[w["host"]])
            for addr, w in info.items()}


def _takes_n_workers(client: Any) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


# --------------------------------------------------------------------------
# the cluster


@contextlib.contextmanager
def _client(scheduler: Any, n_workers: int | None, threads_per_worker: int | None,
            connect_timeout: float) -> Iterator[Any]:
    """A :class:`distributed.Client`: the given one, one connected to an address, or a local cluster."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise ArchiveError("`scheduler` must be the address of a Dask scheduler "
                               f"(e.g. 'tcp://10.0.0.5:8786') or a Client; got {scheduler!r}.")
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
            raise ArchiveError(f"cannot connect to the Dask scheduler at {scheduler!r}: "
                               f"{exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    for name, v in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ArchiveError(f"`{name}` must be a positive integer; got {v!r}.")
    cores = _cores()
    workers = n_workers if n_workers is not None else max(1, min(cores, 4))
    tpw = threads_per_worker if threads_per_worker is not None else 1
    env = {"NUMBA_THREADING_LAYER": safe_threading_layer(),
           "NUMBA_NUM_THREADS": str(worker_numba_threads(cores, workers, tpw))}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=tpw, processes=True,
                           dashboard_address=":0", env=env)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()




# --------------------------------------------------------------------------
# tasks


def _submit(client: Any, threads: dict[str, int], fn: Any, *args: Any) -> Any:
    return client.submit(_call, fn, threads, *args, pure=False)



def _is_frame(obj: Any) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask is required to get here
        return False
    return isinstance(obj, dd.DataFrame)

