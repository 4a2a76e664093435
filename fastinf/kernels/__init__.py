"""Numba kernels behind fastinf's public API.

Plain NumPy arrays in, arrays out: no validation, no Python objects. Each
module mirrors the public module of the same idea (``rng``, ``statistics``,
``bootstrap``, ``permutation``, ``ttests``, ``tables``, ``ranks``, ``drift``,
``multitest``, ``experiment``, ``mixture``, ``mcmc``,
``diagnostics``, ``bayes``; ``linalg`` holds the small factorisations they share); every jit option lives in :mod:`._jit`.
"""
