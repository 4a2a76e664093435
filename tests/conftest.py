import contextlib

import numba
import pytest


@contextlib.contextmanager
def num_threads(n):
    """Run with ``n`` Numba threads, restoring the previous count."""
    old = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(old)


@pytest.fixture
def threads():
    return num_threads
