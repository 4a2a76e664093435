"""Brute-force NumPy references for the kernels (slow, obviously correct)."""

import numpy as np

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)
K_EXPERIMENT = np.uint64(0xD1B54A32D192ED03)
K_REPLICATE = np.uint64(0x8CB92BA72F3D8DD7)


def mix64(z):
    """SplitMix64's finaliser on uint64 arrays (wrap-around intended)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
    return z ^ (z >> np.uint64(31))


def stream_key(seed, experiment, replicate):
    with np.errstate(over="ignore"):
        k = mix64(np.uint64(seed) ^ (np.uint64(experiment) * K_EXPERIMENT + GOLDEN))
        return mix64(k ^ (np.uint64(replicate) * K_REPLICATE + M1))


def words(seed, experiment, replicate, n_words):
    key = stream_key(seed, experiment, replicate)
    with np.errstate(over="ignore"):
        return mix64(key ^ ((np.arange(n_words, dtype=np.uint64) + np.uint64(1)) * GOLDEN))


def poisson1_weights(seed, experiment, replicate, n):
    """Unit i's Poisson(1) weight: inversion of half i & 1 of word i >> 1."""
    from math import exp, factorial

    w = words(seed, experiment, replicate, (n + 1) // 2)
    halves = np.empty(2 * w.size, dtype=np.uint64)
    halves[0::2] = w & np.uint64(0xFFFFFFFF)
    halves[1::2] = w >> np.uint64(32)
    cdf = [round(2.0**32 * exp(-1.0) * sum(1.0 / factorial(j) for j in range(k + 1)))
           for k in range(13)]
    thresholds = np.array(cdf, dtype=np.uint64)
    return (halves[:n, None] >= thresholds).sum(axis=1)
