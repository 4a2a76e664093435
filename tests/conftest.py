import contextlib

import numba
import pytest
from hypothesis import HealthCheck, settings

# Derandomised so that CI runs the same examples every time; every test file
# that uses hypothesis gets this profile.
settings.register_profile(
    "fastinf", derandomize=True, max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("fastinf")


def pytest_configure(config):
    if numba.config.DISABLE_JIT:
        # Without the JIT the generator's uint64 arithmetic runs as NumPy
        # scalars, which warn on the wrap-around the hash relies on.
        config.addinivalue_line("filterwarnings", "ignore:overflow encountered:RuntimeWarning")


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
