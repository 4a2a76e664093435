"""Turning scipy-style ``rng`` arguments into the kernels' 64-bit seed.

The kernels draw from a counter-based generator (:mod:`fastinf.kernels.rng`)
addressed by ``(seed, experiment, replicate, counter)``. This module maps
what ``scipy.stats`` accepts for ``rng`` onto that single seed:

* ``None``: fresh OS entropy, as ``numpy.random.default_rng()``;
* an integer: hashed through :class:`numpy.random.SeedSequence`, so nearby
  integers give unrelated streams;
* a :class:`numpy.random.Generator` (or legacy ``RandomState``): one 64-bit
  word is drawn from it, so the same generator state always gives the same
  result and the generator advances (by one word: less than scipy, which
  draws every resample from it);
* a :class:`numpy.random.SeedSequence` or ``BitGenerator``: as scipy, through
  ``numpy.random.default_rng``.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["as_seed"]


def as_seed(rng: object, name: str = "rng") -> np.uint64:
    """Return the kernels' 64-bit seed for a scipy-style ``rng`` argument.

    Parameters
    ----------
    rng : None, int, Generator, RandomState, SeedSequence or BitGenerator
        The random source, with :func:`scipy.stats.bootstrap`'s meaning.
    name : str, optional
        The argument's name, for the error message.

    Returns
    -------
    numpy.uint64
        The seed.

    Examples
    --------
    >>> from fastinf.rng import as_seed
    >>> as_seed(42) == as_seed(42)
    np.True_
    """
    if rng is None:
        return np.uint64(np.random.default_rng().integers(2**64, dtype=np.uint64))
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise ValueError(f"`{name}` must be a non-negative integer seed, got {rng}.")
        state = np.random.SeedSequence(int(rng)).generate_state(1, dtype=np.uint64)
        return np.uint64(state[0])
    if isinstance(rng, (np.random.SeedSequence, np.random.BitGenerator)):
        rng = np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return np.uint64(rng.integers(2**64, dtype=np.uint64))
    if isinstance(rng, np.random.RandomState):
        return np.uint64(rng.randint(2**63, dtype=np.int64))
    raise TypeError(
        f"`{name}` must be None, a non-negative integer, or a "
        f"numpy.random.Generator; got {type(rng).__name__}."
    )
