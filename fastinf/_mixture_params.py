"""Checks and parameter layouts shared by the two Gaussian-mixture APIs.

:mod:`fastinf.mixture` is split by idea; this module holds what both of its
APIs (:class:`fastinf.mixture.GaussianMixture` and
:func:`fastinf.mixture.fit_batch`) need before they reach a kernel:

- the warning and error classes (:class:`ConvergenceWarning`,
  :class:`NotFittedError`), re-exported by :mod:`fastinf.mixture`;
- the argument checks (``_check_*``), which raise scikit-learn's messages,
  naming the argument and the estimator or function that received it;
- the conversions between scikit-learn's shapes of the precision Cholesky
  factors (``(k, d, d)`` 'full', ``(d, d)`` 'tied', ``(k, d)`` 'diag',
  ``(k,)`` 'spherical') and the kernels' single ``(k, d, d)`` layout, and
  the log-determinants and precisions computed from those factors.

The k-means initialisation lives in :mod:`fastinf._mixture_init`, the
batched 1-D API in :mod:`fastinf._mixture_batch`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

_COV_TYPES = ("full", "tied", "diag", "spherical")
_INITS = ("kmeans", "k-means++", "random", "random_from_data")
_ILL_DEFINED = (
    "Fitting the mixture model failed because some components have "
    "ill-defined empirical covariance (for instance caused by singleton "
    "or collapsed samples). Try to decrease the number of components, "
    "increase reg_covar, or scale the input data."
)


class ConvergenceWarning(UserWarning):
    """EM (or the k-means initialisation) stopped before it converged."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted mixture was called before ``fit``."""


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_int(value: Any, name: str, low: int, owner: str) -> int:
    if not _is_int(value) or value < low:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be an int in the range "
            f"[{low}, inf). Got {value!r} instead."
        )
    return int(value)


def _check_nonneg(value: Any, name: str, owner: str) -> float:
    if not _is_real(value) or not value >= 0.0 or not math.isfinite(value):
        raise ValueError(
            f"The '{name}' parameter of {owner} must be a float in the range "
            f"[0.0, inf). Got {value!r} instead."
        )
    return float(value)


def _check_option(value: Any, name: str, options: tuple[str, ...], owner: str) -> str:
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(
            f"The '{name}' parameter of {owner} must be a str among {{{listed}}}. "
            f"Got {value!r} instead."
        )
    return value


def _check_random_state(seed: Any) -> np.random.RandomState:
    """scikit-learn's ``check_random_state``: a ``RandomState`` for ``random_state``."""
    if seed is None or seed is np.random:
        return np.random.mtrand._rand
    if _is_int(seed):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(
        f"The 'random_state' parameter must be None, an int or a "
        f"numpy.random.RandomState; got {seed!r}."
    )


def _check_X(X: Any, owner: str, min_samples: int = 1) -> np.ndarray:
    """``X`` as a finite C-contiguous float64 array of shape (n_samples, n_features)."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("`X` must be an array of real numbers.") from None
    if arr.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {arr.ndim}D array instead: `X` must have shape "
            "(n_samples, n_features). Reshape your data either using "
            "X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) "
            "if it contains a single sample."
        )
    if arr.shape[0] < min_samples:
        raise ValueError(
            f"Found array with {arr.shape[0]} sample(s) (shape={arr.shape}) while a "
            f"minimum of {min_samples} is required by {owner}."
        )
    if arr.shape[1] < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={arr.shape}) while a minimum of 1 "
            f"is required by {owner}."
        )
    if not np.isfinite(arr).all():
        if np.isnan(arr).any():
            raise ValueError("Input X contains NaN.")
        raise ValueError("Input X contains infinity or a value too large for dtype('float64').")
    return np.ascontiguousarray(arr)


def _check_weights(weights: Any, k: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,):
        raise ValueError(
            f"The parameter 'weights' should have the shape of {(k,)}, but got {w.shape}"
        )
    if not np.isfinite(w).all() or (w < 0.0).any() or (w > 1.0).any():
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{np.max(w):.5f}, min value {np.min(w):.5f}"
        )
    if not abs(1.0 - w.sum()) <= 1e-8:
        raise ValueError(
            f"The parameter 'weights' should be normalized, but got sum(weights) = {w.sum():.5f}"
        )
    return w


def _check_means(means: Any, k: int, d: int) -> np.ndarray:
    m = np.asarray(means, dtype=np.float64)
    if m.shape != (k, d):
        raise ValueError(
            f"The parameter 'means' should have the shape of {(k, d)}, but got {m.shape}"
        )
    if not np.isfinite(m).all():
        raise ValueError("The parameter 'means' must be finite.")
    return np.ascontiguousarray(m)


def _check_precisions(precisions: Any, cov_type: str, k: int, d: int) -> np.ndarray:
    p = np.asarray(precisions, dtype=np.float64)
    shape = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[cov_type]
    if p.shape != shape:
        raise ValueError(
            f"The parameter '{cov_type} precision' should have the shape of {shape}, "
            f"but got {p.shape}"
        )
    if cov_type in ("full", "tied"):
        for mat in p.reshape(-1, d, d):
            if not (np.allclose(mat, mat.T) and np.all(np.linalg.eigvalsh(mat) > 0.0)):
                raise ValueError(
                    f"'{cov_type} precision' should be symmetric, positive-definite"
                )
    elif not np.all(p > 0.0):
        raise ValueError(f"'{cov_type} precision' should be positive")
    return np.ascontiguousarray(p)


# --------------------------------------------------------------------------
# Parameter layouts: scikit-learn's shapes <-> the kernels' (k, d, d) arrays
# --------------------------------------------------------------------------


def _to_kernel(prec_chol: np.ndarray, cov_type: str, k: int, d: int) -> np.ndarray:
    """The precision Cholesky factors as the kernels' ``(k, d, d)`` array."""
    if cov_type == "full":
        return np.ascontiguousarray(prec_chol, dtype=np.float64)
    if cov_type == "tied":
        return np.ascontiguousarray(np.broadcast_to(prec_chol, (k, d, d)), dtype=np.float64)
    out = np.zeros((k, d, d))
    diag = prec_chol if cov_type == "diag" else np.repeat(prec_chol[:, None], d, axis=1)
    idx = np.arange(d)
    out[:, idx, idx] = diag
    return out


def _from_kernel(arr: np.ndarray, cov_type: str) -> np.ndarray:
    """A kernel ``(k, d, d)`` array (covariances or factors) in scikit-learn's shape."""
    if cov_type == "full":
        return arr
    if cov_type == "tied":
        return arr[0].copy()
    if cov_type == "diag":
        return np.ascontiguousarray(np.diagonal(arr, axis1=1, axis2=2))
    return arr[:, 0, 0].copy()


def _log_det_chol(prec_chol: np.ndarray, cov_type: str, d: int) -> np.ndarray | float:
    """scikit-learn's ``_compute_log_det_cholesky``: log det of the precision factor."""
    if cov_type == "full":
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)
    if cov_type == "tied":
        return float(np.log(np.diagonal(prec_chol)).sum())
    if cov_type == "diag":
        return np.log(prec_chol).sum(axis=1)
    return d * np.log(prec_chol)


def _prec_chol_from_precisions(p: np.ndarray, cov_type: str) -> np.ndarray:
    """Upper-triangular ``U`` with ``P = U U^T`` (scikit-learn's flipped Cholesky)."""
    if cov_type == "full":
        return np.stack([np.linalg.cholesky(m[::-1, ::-1])[::-1, ::-1] for m in p])
    if cov_type == "tied":
        return np.linalg.cholesky(p[::-1, ::-1])[::-1, ::-1].copy()
    return np.sqrt(p)


def _precisions(prec_chol: np.ndarray, cov_type: str) -> np.ndarray:
    if cov_type == "full":
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if cov_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2
