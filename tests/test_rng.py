"""The counter-based generator: uniformity, independence of address, threads."""

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from fastinf.kernels import rng as R
from fastinf.rng import as_seed

SEED = np.uint64(0x5EED5EED5EED5EED)


@pytest.mark.parametrize("n", [3, 7, 1000, 2**31 + 1, 2**32])
def test_bounded_integers_are_uniform(n):
    """Chi-square goodness of fit of 200 000 draws in [0, n), binned into at
    most 64 equal-probability cells (exact cells when n <= 64, otherwise
    ``floor(k * 64 / n)`` which is near-equal: expected counts use the exact
    cell widths). n = 2**31 + 1 rejects almost half the raw words, so it
    exercises the rejection path. Test at the 1e-6 level: false-failure rate
    1e-6 per case.
    """
    draws = R.integers(SEED, 3, 40, 5000, n).ravel()
    assert draws.min() >= 0 and draws.max() < n
    cells = min(n, 64)
    binned = (draws.astype(np.float64) * cells / n).astype(np.int64)
    observed = np.bincount(binned, minlength=cells)
    edges = np.ceil(np.arange(cells + 1) * n / cells)
    expected = np.diff(edges) / n * draws.size
    p = stats.chisquare(observed, expected).pvalue
    assert p > 1e-6, p


def test_bounded_low_bits_unbiased_for_awkward_bound():
    """Lemire without rejection over-weights some residues by 1/2**32 * n; with
    n = 3 * 2**30 the two-thirds/one-third split of residues mod 3 would show.
    """
    n = 3 * 2**30
    draws = R.integers(SEED, 0, 100, 4000, n).ravel()
    counts = np.bincount(draws % 3, minlength=3)
    assert stats.chisquare(counts).pvalue > 1e-6


def test_uniform_doubles_and_poisson():
    u = R.uniforms(SEED, 0, 50, 4000).ravel()
    assert 0.0 <= u.min() and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-6
    k = R.poissons(SEED, 1, 50, 4000).ravel()
    observed = np.bincount(k, minlength=7)[:7]
    observed[-1] += (k > 6).sum()
    expected = stats.poisson.pmf(np.arange(7), 1.0)
    expected[-1] += stats.poisson.sf(6, 1.0)
    assert stats.chisquare(observed, expected * k.size).pvalue > 1e-6


def test_streams_are_uncorrelated():
    """Adjacent replicates and experiments give uncorrelated uniforms (|r| < 6/sqrt(n))."""
    a = R.uniforms(SEED, 0, 2, 20000)
    b = R.uniforms(SEED, 1, 1, 20000)[0]
    limit = 6 / np.sqrt(20000)
    assert abs(np.corrcoef(a[0], a[1])[0, 1]) < limit
    assert abs(np.corrcoef(a[0], b)[0, 1]) < limit
    assert abs(np.corrcoef(a[0][:-1], a[0][1:])[0, 1]) < limit


def test_draws_depend_only_on_address(threads):
    with threads(1):
        one = R.integers(SEED, 5, 64, 1001, 977)
    with threads(2):
        two = R.integers(SEED, 5, 64, 1001, 977)
    assert one.tobytes() == two.tobytes()
    # a replicate is the same whether drawn among 64 or alone
    assert np.array_equal(R.integers(SEED, 5, 64, 1001, 977)[:3], R.integers(SEED, 5, 3, 1001, 977))


def test_identical_bytes_in_single_threaded_subprocess():
    code = (
        "import numpy as np, fastinf;"
        "x = np.random.default_rng(0).lognormal(size=(7, 301));"
        "r = fastinf.bootstrap((x,), 'median', axis=-1, n_resamples=333, rng=5);"
        "import sys; sys.stdout.write(r.bootstrap_distribution.tobytes().hex())"
    )
    out = {}
    for n in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": n}
        out[n] = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
    assert out["1"] == out["2"] and len(out["1"]) > 1000


def test_as_seed():
    assert as_seed(1) == as_seed(1) != as_seed(2)
    g = np.random.default_rng(3)
    assert as_seed(np.random.default_rng(3)) == as_seed(g)
    assert as_seed(g) != as_seed(np.random.default_rng(3))  # g advanced
    assert isinstance(as_seed(None), np.uint64)
    assert isinstance(as_seed(np.random.RandomState(1)), np.uint64)
    with pytest.raises(ValueError, match="non-negative integer seed"):
        as_seed(-1)
    with pytest.raises(TypeError, match="`rng` must be None"):
        as_seed(1.5)


def test_generator_matches_the_numpy_reference():
    """The kernels' stream, rebuilt in NumPy from the documented formulas."""
    from tests import naive

    seed = np.uint64(123456789)
    u = R.uniforms(seed, 4, 3, 50)
    for b in range(3):
        expected = (naive.words(seed, 4, b, 50) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        np.testing.assert_array_equal(u[b], expected)
    w = R.poissons(seed, 2, 5, 20001)
    for b in range(5):
        np.testing.assert_array_equal(w[b], naive.poisson1_weights(seed, 2, b, 20001))
