"""Counter-based random numbers: every draw is a pure function of its address.

A draw is addressed by ``(seed, experiment, replicate, counter)``. The stream
key of one replicate of one experiment is ``stream_key(seed, experiment,
replicate)`` and its ``c``-th 64-bit word is ``draw64(key, c)``; nothing is
carried from one draw to the next. Threads may therefore visit replicates in
any order and the results are bit-identical whatever the thread count, the
``batch`` size, or whether a replicate is computed now or appended later.

The mixing function is the SplitMix64 finaliser (Steele, Lea & Flood 2014,
"Fast splittable pseudorandom number generators", OOPSLA), the output function
of Java's ``SplittableRandom`` and the seeding function of xoshiro, applied to
``key XOR (counter + 1) * golden_gamma``. XOR-ing the key instead of adding it
(as SplitMix64's own Weyl sequence does) means two streams can never be shifted
copies of each other; they only collide value by value with probability
2**-64. Each 64-bit word yields two 32-bit halves, so an index costs half a
mix. With no loop-carried state, LLVM is free to pipeline the loop.

Bounded integers use Lemire's multiply-shift with rejection (Lemire 2019,
"Fast random integer generation in an interval", ACM TOMACS 29(1)), which is
exactly unbiased; a rejected half-word is redrawn from a side stream addressed
by the element's index and the attempt number, so rejection never shifts the
draws of later elements.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_K_EXPERIMENT = np.uint64(0xD1B54A32D192ED03)
_K_REPLICATE = np.uint64(0x8CB92BA72F3D8DD7)
_K_REJECT = np.uint64(0xA0761D6478BD642F)
_K_REDRAW = np.uint64(0xE7037ED1A0B428DB)
_ONE = np.uint64(1)
_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53

# Poisson(1) by inversion of a 32-bit uniform: P(K <= k) = e^-1 sum_{j<=k} 1/j!
# scaled to 2**32. A 64-bit word gives two weights; the category
# probabilities are exact to 2**-32, and the mass beyond k = 13 (1.3e-11)
# is below that resolution.
_POISSON1_T32 = np.array(
    [
        round(2.0**32 * math.exp(-1.0) * sum(1.0 / math.factorial(j) for j in range(k + 1)))
        for k in range(13)
    ],
    dtype=np.uint64,
)


def _poisson_prefix_table() -> np.ndarray:
    # The count for each 12-bit prefix of the uniform word, or 255 where a
    # CDF threshold falls inside the prefix's cell (7 of 4096 cells): one L1
    # load instead of 13 compares, and the same counts as the compares.
    cells = np.arange(4096, dtype=np.uint64)
    lo = (cells << np.uint64(20))[:, None] >= _POISSON1_T32
    hi = ((cells << np.uint64(20)) + np.uint64((1 << 20) - 1))[:, None] >= _POISSON1_T32
    k_lo, k_hi = lo.sum(axis=1), hi.sum(axis=1)
    return np.where(k_lo == k_hi, k_lo, 255).astype(np.uint8)


_POISSON1_PREFIX = _poisson_prefix_table()
_S20 = np.uint64(20)


@jit(inline="always")
def mix64(z):  # type: ignore[no-untyped-def]
    """SplitMix64 finaliser: a bijective avalanche mix of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit(inline="always")
def stream_key(seed, experiment, replicate):  # type: ignore[no-untyped-def]
    """Key of the stream of one replicate of one experiment."""
    k = mix64(seed ^ (np.uint64(experiment) * _K_EXPERIMENT + _GOLDEN))
    return mix64(k ^ (np.uint64(replicate) * _K_REPLICATE + _M1))


@jit(inline="always")
def sample_key(key, j):  # type: ignore[no-untyped-def]
    """Stream of sample ``j`` within one replicate (sample 0 uses ``key`` itself)."""
    if j == 0:
        return key
    return mix64(key ^ (np.uint64(j) * _GOLDEN))


@jit(inline="always")
def redraw_key(key, attempt):  # type: ignore[no-untyped-def]
    """Key of the ``attempt``-th redraw of a resample (a Poisson resample that came out empty)."""
    return mix64(key ^ (np.uint64(attempt) * _K_REDRAW))


@jit(inline="always")
def draw64(key, counter):  # type: ignore[no-untyped-def]
    """The ``counter``-th 64-bit word of the stream ``key``."""
    return mix64(key ^ ((np.uint64(counter) + _ONE) * _GOLDEN))


@jit(inline="always")
def uniform(key, counter):  # type: ignore[no-untyped-def]
    """A double in [0, 1) with 53 random bits."""
    return np.float64(draw64(key, counter) >> _S11) * _INV53


@jit
def _lemire_retry(key, element, n, low, product):  # type: ignore[no-untyped-def]
    # Called only when the fast path could reject (low < n): rare for small n.
    threshold = (_TWO32 - n) % n
    side = mix64(key ^ _K_REJECT ^ (np.uint64(element) * _GOLDEN))
    attempt = 0
    while low < threshold:
        r = draw64(side, attempt) & _LOW32
        product = r * n
        low = product & _LOW32
        attempt += 1
    return product >> _S32


@jit(inline="always")
def bounded32(key, element, r, n):  # type: ignore[no-untyped-def]
    """Map the 32-bit word ``r`` of ``element`` to an unbiased integer in [0, n).

    ``n`` is a uint64 with ``1 <= n <= 2**32``.
    """
    product = r * n
    low = product & _LOW32
    if low < n:
        return np.int64(_lemire_retry(key, element, n, low, product))
    return np.int64(product >> _S32)


@jit(inline="always")
def index_pair(key, pair, n):  # type: ignore[no-untyped-def]
    """Two unbiased indices in [0, n) for elements ``2*pair`` and ``2*pair+1``."""
    z = draw64(key, pair)
    i0 = bounded32(key, 2 * pair, z & _LOW32, n)
    i1 = bounded32(key, 2 * pair + 1, z >> _S32, n)
    return i0, i1


@jit(inline="always")
def bounded(key, element, n):  # type: ignore[no-untyped-def]
    """One unbiased integer in [0, n) for ``element`` (uses the low half-word)."""
    z = draw64(key, element)
    return bounded32(key, element, z & _LOW32, np.uint64(n))


@jit(inline="always")
def poisson_of(r):  # type: ignore[no-untyped-def]
    """A Poisson(1) count from a 32-bit uniform word ``r``: ``#{k : r >= T_k}``."""
    k = np.int64(_POISSON1_PREFIX[r >> _S20])
    if k == 255:
        k = 0
        for t in range(13):
            k += r >= _POISSON1_T32[t]
    return k


@jit(inline="always")
def poisson1(key, unit):  # type: ignore[no-untyped-def]
    """The Poisson(1) weight of ``unit``: half ``unit & 1`` of word ``unit >> 1``."""
    z = draw64(key, unit >> 1)
    if unit & 1:
        return poisson_of(z >> _S32)
    return poisson_of(z & _LOW32)


@jit(parallel=True)
def integers(seed, experiment, n_replicates, size, n):  # type: ignore[no-untyped-def]
    """``(n_replicates, size)`` indices in [0, n), as the resampling kernels draw them."""
    out = np.empty((n_replicates, size), dtype=np.int64)
    nn = np.uint64(n)
    for b in prange(n_replicates):
        key = stream_key(seed, experiment, b)
        for p in range(size // 2):
            i0, i1 = index_pair(key, p, nn)
            out[b, 2 * p] = i0
            out[b, 2 * p + 1] = i1
        if size % 2:
            i0, _ = index_pair(key, size // 2, nn)
            out[b, size - 1] = i0
    return out


@jit(parallel=True)
def uniforms(seed, experiment, n_replicates, size):  # type: ignore[no-untyped-def]
    """``(n_replicates, size)`` doubles in [0, 1)."""
    out = np.empty((n_replicates, size))
    for b in prange(n_replicates):
        key = stream_key(seed, experiment, b)
        for i in range(size):
            out[b, i] = uniform(key, i)
    return out


@jit(parallel=True)
def poissons(seed, experiment, n_replicates, size):  # type: ignore[no-untyped-def]
    """``(n_replicates, size)`` Poisson(1) weights, as the Poisson bootstrap draws them."""
    out = np.empty((n_replicates, size), dtype=np.int64)
    for b in prange(n_replicates):
        key = stream_key(seed, experiment, b)
        for i in range(size):
            out[b, i] = poisson1(key, i)
    return out


# ----------------------------------------------------------------------------
# Standard normal draws: Marsaglia & Tsang's ziggurat, counter-based.
#
# Marsaglia & Tsang (2000), "The ziggurat method for generating random
# variables", J. Stat. Softw. 5(8): the half-density f(x) = exp(-x**2 / 2) on
# x >= 0 is covered by 256 layers of equal area V: a base strip (the rectangle
# [0, R] x [0, f(R)] plus the tail beyond R) and 255 rectangles stacked above
# it. Layer i (1 <= i <= 255) spans heights [Y[i], Y[i + 1]] and widths
# [0, X[i]], with X[1] = R > X[2] > ... > X[255] > X[256] = 0, Y[i] = f(X[i])
# and Y[i + 1] = Y[i] + V / X[i]; the base strip has the virtual width
# X[0] = V / f(R). The tables are built from R = 3.6541528853610088 (their
# value for 256 layers) with this recursion; the top layer then ends at
# Y[256] = 1 + 2e-15 >= f(0), so its cap above the density is rejected like
# any other point and the method stays exact.
#
# Word ``counter`` of the stream gives a layer (bits 0-7), a sign (bit 8) and
# a 53-bit uniform u (bits 11-63); x = u * X[layer] is returned at once when
# x < X[layer + 1] (98.8 % of draws: one mix, one multiply, one compare). The
# rare draw in a wedge or the tail continues on a side stream addressed by
# (key, counter), so a slow draw never shifts the draws at other counters.
# Each counter is therefore one standard normal, whatever other counters do.


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, float]:
    r = 3.6541528853610088
    fr = math.exp(-0.5 * r * r)
    v = r * fr + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))
    x = np.zeros(257)
    y = np.zeros(257)
    x[0], x[1], y[1] = v / fr, r, fr
    for i in range(1, 256):
        y[i + 1] = y[i] + v / x[i]
        if i < 255:
            x[i + 1] = math.sqrt(-2.0 * math.log(y[i + 1]))
    return x, y, r


_ZIG_X, _ZIG_Y, _ZIG_R = _ziggurat_tables()
_K_NORMAL = np.uint64(0x2545F4914F6CDD1D)
_S8 = np.uint64(8)
_BYTE = np.uint64(255)


@jit
def _normal_slow(key, counter, layer, sign, x):  # type: ignore[no-untyped-def]
    # A draw outside layer's inner rectangle: the tail (layer 0) or the wedge
    # test, then fresh words from the side stream of (key, counter) until a
    # point falls under the density.
    side = mix64(key ^ _K_NORMAL ^ ((np.uint64(counter) + _ONE) * _GOLDEN))
    s = 0
    while True:
        if layer == 0:
            while True:  # Marsaglia (1964): R + a with a ~ Exp(R), accepted w.p. exp(-a**2/2)
                u1 = (np.float64(draw64(side, s) >> _S11) + 1.0) * _INV53
                u2 = (np.float64(draw64(side, s + 1) >> _S11) + 1.0) * _INV53
                s += 2
                a = -math.log(u1) / _ZIG_R
                if -2.0 * math.log(u2) > a * a:
                    return sign * (_ZIG_R + a)
        v = np.float64(draw64(side, s) >> _S11) * _INV53
        s += 1
        if _ZIG_Y[layer] + v * (_ZIG_Y[layer + 1] - _ZIG_Y[layer]) < math.exp(-0.5 * x * x):
            return sign * x
        r = draw64(side, s)
        s += 1
        layer = np.int64(r & _BYTE)
        sign = 1.0 - 2.0 * np.float64((r >> _S8) & _ONE)
        x = np.float64(r >> _S11) * _INV53 * _ZIG_X[layer]
        if x < _ZIG_X[layer + 1]:
            return sign * x


@jit(inline="always")
def normal(key, counter):  # type: ignore[no-untyped-def]
    """A standard normal draw: the ``counter``-th of the stream ``key`` (ziggurat)."""
    r = draw64(key, counter)
    layer = np.int64(r & _BYTE)
    sign = 1.0 - 2.0 * np.float64((r >> _S8) & _ONE)
    x = np.float64(r >> _S11) * _INV53 * _ZIG_X[layer]
    if x < _ZIG_X[layer + 1]:
        return sign * x
    return _normal_slow(key, counter, layer, sign, x)


@jit(parallel=True)
def normals(seed, experiment, n_replicates, size):  # type: ignore[no-untyped-def]
    """``(n_replicates, size)`` standard normal draws, counters ``0 .. size - 1``."""
    out = np.empty((n_replicates, size))
    for b in prange(n_replicates):
        key = stream_key(seed, experiment, b)
        for i in range(size):
            out[b, i] = normal(key, i)
    return out


# Standard exponential draws, by the same scheme: Marsaglia & Tsang's
# ziggurat for f(x) = exp(-x) with 256 layers, R = 7.69711747013104972 and
# V = (R + 1) exp(-R) (the tail beyond R has area exp(-R) and, by the lack of
# memory, is R plus a fresh exponential, drawn by inversion). The recursion
# ends at Y[256] = 1 to rounding. A word gives the layer (bits 0-7) and a
# 53-bit uniform (bits 11-63); 98.9 % of draws take the fast path. Used to
# accept a Metropolis proposal without a logarithm: -log(U) is Exp(1).


def _exp_ziggurat_tables() -> tuple[np.ndarray, np.ndarray, float]:
    r = 7.69711747013104972
    fr = math.exp(-r)
    v = (r + 1.0) * fr
    x = np.zeros(257)
    y = np.zeros(257)
    x[0], x[1], y[1] = v / fr, r, fr
    for i in range(1, 256):
        y[i + 1] = y[i] + v / x[i]
        if i < 255:
            x[i + 1] = -math.log(y[i + 1])
    return x, y, r


_EZIG_X, _EZIG_Y, _EZIG_R = _exp_ziggurat_tables()
_K_EXPONENTIAL = np.uint64(0xCC81BD965FA46EC6)


@jit
def _exponential_slow(key, counter, layer, x):  # type: ignore[no-untyped-def]
    side = mix64(key ^ _K_EXPONENTIAL ^ ((np.uint64(counter) + _ONE) * _GOLDEN))
    s = 0
    while True:
        if layer == 0:
            u = (np.float64(draw64(side, s) >> _S11) + 1.0) * _INV53  # in (0, 1]
            return _EZIG_R - math.log(u)
        v = np.float64(draw64(side, s) >> _S11) * _INV53
        s += 1
        if _EZIG_Y[layer] + v * (_EZIG_Y[layer + 1] - _EZIG_Y[layer]) < math.exp(-x):
            return x
        r = draw64(side, s)
        s += 1
        layer = np.int64(r & _BYTE)
        x = np.float64(r >> _S11) * _INV53 * _EZIG_X[layer]
        if x < _EZIG_X[layer + 1]:
            return x


@jit(inline="always")
def exponential(key, counter):  # type: ignore[no-untyped-def]
    """A standard exponential draw: the ``counter``-th of the stream ``key`` (ziggurat)."""
    r = draw64(key, counter)
    layer = np.int64(r & _BYTE)
    x = np.float64(r >> _S11) * _INV53 * _EZIG_X[layer]
    if x < _EZIG_X[layer + 1]:
        return x
    return _exponential_slow(key, counter, layer, x)


@jit(parallel=True)
def exponentials(seed, experiment, n_replicates, size):  # type: ignore[no-untyped-def]
    """``(n_replicates, size)`` standard exponential draws, counters ``0 .. size - 1``."""
    out = np.empty((n_replicates, size))
    for b in prange(n_replicates):
        key = stream_key(seed, experiment, b)
        for i in range(size):
            out[b, i] = exponential(key, i)
    return out
