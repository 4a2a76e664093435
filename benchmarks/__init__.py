"""Benchmarks of fastinf against its reference, :mod:`scipy.stats`.

Three ways in, sharing the data generators below:

* ``bench_*.py``: asv suites (``asv run``), a reference class beside each
  fastinf class;
* ``test_bench*.py``: pytest-benchmark groups at small sizes
  (``python -m pytest benchmarks --benchmark-only``);
* ``run_compare.py`` (resampling) and ``compare_*.py`` (stats, ranks,
  multitest, power, experiment): one run of fastinf and the reference side by
  side, printing the markdown tables kept in ``benchmarks/README.md``.

Nothing here imports fastinf, Numba or SciPy: asv imports every module of
this package to discover benchmarks, and compiling (or even importing) at
discovery would distort ``timeraw_`` and ``peakmem_`` results. Every
benchmark imports and warms fastinf in its ``setup``.

Set ``FASTINF_BENCH_QUICK=1`` to shrink the asv parameter grids to the small
sizes only (a whole-suite ``asv run --quick`` then takes a few minutes).

All data come from fixed seeds, so every tool benchmarks the same arrays.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

QUICK = os.environ.get("FASTINF_BENCH_QUICK", "0") not in ("", "0")

#: Seed of every data set (the resampling seed is separate: ``RESAMPLE_SEED``).
DATA_SEED = 20240601
RESAMPLE_SEED = 12345

# scipy's ``batch`` per method: the sizes named in the issue. At batch=None
# scipy materialises all resamples (n_resamples x n floats) and its BCa
# jackknife (n x (n - 1) floats): 8 GB and 80 GB at n = 100 000.
SCIPY_BOOTSTRAP_BATCH = {"percentile": 200, "basic": 200, "BCa": 1000}
SCIPY_PERMUTATION_BATCH = 100


def normal_sample(n: int, seed: int = DATA_SEED) -> np.ndarray:
    """One standard normal sample of size ``n``."""
    return np.random.default_rng(seed).normal(size=n)


def two_samples(n: int, shift: float = 0.01, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two normal samples of size ``n`` each, the second shifted by ``shift``."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=n), rng.normal(loc=shift, size=n)


def ragged_arrays(
    n_experiments: int, low: int, high: int, seed: int = DATA_SEED
) -> list[np.ndarray]:
    """``n_experiments`` normal samples with sizes uniform on ``[low, high]``.

    Sizes are drawn first, from their own generator, so the first ``k``
    experiments have the same sizes whatever ``n_experiments`` is.
    """
    sizes = np.random.default_rng(seed).integers(low, high + 1, size=n_experiments)
    rng = np.random.default_rng(seed + 1)
    return [rng.normal(size=int(s)) for s in sizes]


def scipy_mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Difference of means, vectorised as scipy's ``permutation_test`` wants it."""
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def first_call_code(
    cache_dir_expr: str, data_code: str, call_code: str
) -> tuple[str, str]:
    """``(stmt, setup)`` for an asv ``timeraw_`` benchmark of import + first call.

    The child process points fastinf's kernel cache at ``cache_dir_expr`` (a
    Python expression: an empty folder for a cold compile, a filled one for a
    load from the on-disk cache) before anything imports fastinf. The timed
    statement imports fastinf and makes the first call, which imports Numba
    and compiles or loads the kernels.
    """
    setup = "\n".join(
        [
            "import os, tempfile",
            "os.environ.pop('NUMBA_CACHE_DIR', None)",
            f"os.environ['FASTINF_CACHE_DIR'] = {cache_dir_expr}",
            "import numpy as np",
            data_code,
        ]
    )
    stmt = "import fastinf\n" + call_code
    return stmt, setup


def fill_kernel_cache(cache_dir: str, data_code: str, call_code: str) -> None:
    """Run ``call_code`` once in a child process, leaving its kernels in ``cache_dir``."""
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)
    env["FASTINF_CACHE_DIR"] = cache_dir
    code = "\n".join(["import numpy as np", data_code, "import fastinf", call_code])
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def interval_gap(a_low: float, a_high: float, b_low: float, b_high: float) -> float:
    """Largest endpoint difference between two intervals, in units of ``b``'s width."""
    width = b_high - b_low
    return float(max(abs(a_low - b_low), abs(a_high - b_high)) / width)


def best_time(fn, repeat=3):
    """Best wall time of ``repeat`` calls of ``fn`` after one warm-up call (compile or cache load)."""
    import time

    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def timed(fn):
    """``(seconds, result)`` of one call of ``fn``."""
    import time

    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out
