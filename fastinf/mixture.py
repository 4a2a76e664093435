"""Gaussian mixtures fitted by EM: scikit-learn's ``GaussianMixture``, compiled and batched.

:class:`GaussianMixture` is a drop-in for
:class:`sklearn.mixture.GaussianMixture`: the same constructor arguments,
fitted attributes and methods, and, given the same initialisation, the same
fitted parameters (to rounding) and the same number of iterations. The
initialisations ``'random'``, ``'random_from_data'``, ``'k-means++'`` and
``'kmeans'`` make the same calls on the same ``numpy.random.RandomState`` as
scikit-learn (its greedy k-means++ seeding and Lloyd's iteration are
re-implemented here, scikit-learn is not needed at run time), so an integer
``random_state`` gives scikit-learn's starting point too.

Each EM iteration is one call of a fused, parallel Numba kernel
(:func:`fastinf.kernels.mixture.em_pass`): one pass over ``X`` computes the
``k`` log-densities of every point, their log-sum-exp and the
responsibilities' sufficient statistics (sums of ``r``, ``r x`` and
``r x x^T`` per component), in fixed-size chunks added in a fixed order
(bit-identical at any thread count), without an ``n x k`` array; the small
M-step (means, covariances, Cholesky factors of the precisions) then runs on
the reduced sums.

:func:`fit_batch` fits thousands of independent 1-D mixtures (one per
experiment, or per feature) in one parallel call: each experiment runs its
own initialisation and EM to convergence on one thread, with its random
initialisation drawn from the counter-based generator keyed by the
experiment's index, so results do not depend on the thread count or on the
other experiments.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.ragged import Ragged

__all__ = [
    "ConvergenceWarning",
    "GaussianMixture",
    "GaussianMixtureBatchResult",
    "NotFittedError",
    "fit_batch",
]

_COV_TYPES = ("full", "tied", "diag", "spherical")
_INITS = ("kmeans", "k-means++", "random", "random_from_data")
_CHUNK = 2048  # points per partial sum of the E-step
_LOG_2PI = math.log(2.0 * math.pi)
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


# --------------------------------------------------------------------------
# k-means initialisation, as scikit-learn draws it
# --------------------------------------------------------------------------


def _kmeanspp_indices(
    X: np.ndarray, k: int, x_sq: np.ndarray, rs: np.random.RandomState
) -> np.ndarray:
    """scikit-learn's greedy k-means++: the same draws from ``rs``, the same seeds."""
    from fastinf.kernels import mixture as K

    n = X.shape[0]
    n_local_trials = 2 + int(np.log(k))
    sample_weight = np.ones(n)
    first = int(rs.choice(n, p=sample_weight / sample_weight.sum()))
    # The candidates' uniforms do not depend on the data: draw them all now,
    # in the order scikit-learn draws them one seed at a time.
    uniforms = rs.uniform(size=(k - 1, n_local_trials))
    return np.asarray(K.kmeanspp(X, x_sq, first, uniforms))


def _kmeans_labels(X: np.ndarray, k: int, rs: np.random.RandomState) -> np.ndarray:
    """Labels of ``KMeans(n_clusters=k, n_init=1, random_state=rs).fit(X)``.

    Lloyd's iteration from k-means++ seeds on the centred data, stopped when
    the labels repeat or the squared centre shift falls to ``1e-4`` times the
    mean feature variance (at most 300 rounds), empty clusters relocated to
    the points farthest from their centres: scikit-learn's algorithm.
    """
    from fastinf.kernels import mixture as K

    n, d = X.shape
    tol = float(np.mean(np.var(X, axis=0))) * 1e-4
    Xc = X - X.mean(axis=0)
    x_sq = np.einsum("ij,ij->i", Xc, Xc)
    centers = Xc[_kmeanspp_indices(Xc, k, x_sq, rs)]
    labels = np.empty(n, dtype=np.int64)
    labels_old = np.full(n, -1, dtype=np.int64)
    sums = np.zeros((k, d))
    counts = np.zeros(k)
    strict = False
    for _ in range(300):
        K.lloyd_step(Xc, centers, labels, sums, counts)
        if (counts == 0.0).any():
            _relocate_empty(Xc, centers, sums, counts, labels)
        top = int(np.argmax(counts))
        for j in range(k):  # in place and in order, as scikit-learn averages
            if counts[j] > 0.0:
                sums[j] *= 1.0 / counts[j]
            else:
                sums[j] = sums[top]
        shift = np.sqrt(((sums - centers) ** 2).sum(axis=1))
        centers = sums.copy()
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if (shift**2).sum() <= tol:
            break
        labels_old[:] = labels
    if not strict:
        K.lloyd_step(Xc, centers, labels, sums, counts)
    distinct = np.unique(labels).size
    if distinct < k:
        warnings.warn(
            f"Number of distinct clusters ({distinct}) found smaller than n_clusters "
            f"({k}). Possibly due to duplicate points in X.",
            ConvergenceWarning, stacklevel=4,
        )
    return labels


def _relocate_empty(
    X: np.ndarray, centers: np.ndarray, sums: np.ndarray, counts: np.ndarray,
    labels: np.ndarray,
) -> None:
    """Give each empty cluster the point farthest from its centre (scikit-learn's rule)."""
    empty = np.flatnonzero(counts == 0.0)
    n_empty = empty.size
    distances = ((X - centers[labels]) ** 2).sum(axis=1)
    far = np.argpartition(distances, -n_empty)[: -n_empty - 1 : -1]
    if np.max(distances) == 0:
        return
    for new, f in zip(empty, far, strict=True):
        old = labels[f]
        sums[old] -= X[f]
        sums[new] = X[f]
        counts[new] = 1.0
        counts[old] -= 1.0


# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------

_PARAMS = (
    "n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init",
    "init_params", "weights_init", "means_init", "precisions_init", "random_state",
    "warm_start", "verbose", "verbose_interval",
)
_DEFAULTS: dict[str, Any] = {
    "n_components": 1, "covariance_type": "full", "tol": 1e-3, "reg_covar": 1e-6,
    "max_iter": 100, "n_init": 1, "init_params": "kmeans", "weights_init": None,
    "means_init": None, "precisions_init": None, "random_state": None,
    "warm_start": False, "verbose": 0, "verbose_interval": 10,
}


class GaussianMixture:
    r"""Gaussian mixture model fitted by EM (scikit-learn's ``GaussianMixture``).

    Parameters
    ----------
    n_components : int, default=1
        The number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Each component has its own general covariance matrix ('full'), all
        share one ('tied'), each has its own diagonal one ('diag') or its own
        single variance ('spherical').
    tol : float, default=1e-3
        EM stops when the lower bound (the mean log-likelihood) changes by
        less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance.
    max_iter : int, default=100
        The most EM iterations per initialisation.
    n_init : int, default=1
        Initialisations to run; the fit with the largest lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the starting responsibilities are chosen: k-means labels,
        k-means++ seeds, uniform random responsibilities, or random points.
    weights_init, means_init, precisions_init : array_like, optional
        Starting weights ``(n_components,)``, means ``(n_components,
        n_features)`` and precisions (shape by ``covariance_type``, as
        ``precisions_``); each replaces the one ``init_params`` would give.
    random_state : int, RandomState or None, default=None
        The source of the initialisation (and of :meth:`sample`), used
        exactly as scikit-learn uses it.
    warm_start : bool, default=False
        If true, each ``fit`` after the first starts from the last solution
        (and ``n_init`` is ignored).
    verbose : int, default=0
        1 prints each initialisation, 2 also the change of the lower bound
        and the time every ``verbose_interval`` iterations.
    verbose_interval : int, default=10
        Iterations between two verbose messages.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_, precisions_, precisions_cholesky_ : ndarray
        Shapes ``(k,)`` ('spherical'), ``(d, d)`` ('tied'), ``(k, d)``
        ('diag') or ``(k, d, d)`` ('full'); ``precisions_cholesky_`` holds
        the upper-triangular ``U`` with ``precisions_ = U U^T``.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood of the training data under the parameters before
        the best fit's last M-step.
    lower_bounds_ : list of float
        The lower bound after each iteration of the best fit.
    n_features_in_ : int

    Notes
    -----
    The E-step computes, for every point, the weighted log-densities and the
    responsibilities

    .. math::

        \log \pi_j + \log \mathcal{N}(x_i \mid \mu_j, \Sigma_j), \qquad
        r_{ij} = \frac{\pi_j \mathcal{N}(x_i \mid \mu_j, \Sigma_j)}
                      {\sum_l \pi_l \mathcal{N}(x_i \mid \mu_l, \Sigma_l)}

    by a log-sum-exp; the M-step sets :math:`N_j = \sum_i r_{ij}`,
    :math:`\pi_j = N_j / n`, :math:`\mu_j = \sum_i r_{ij} x_i / N_j` and
    :math:`\Sigma_j = \sum_i r_{ij} (x_i - \mu_j)(x_i - \mu_j)^T / N_j +
    \epsilon I` (``reg_covar``), averaged over components for 'tied', its
    diagonal for 'diag', the mean of the diagonal for 'spherical' [1]_ [2]_.
    Data are converted to float64 (scikit-learn keeps float32 input in
    float32). Each iteration increases the log-likelihood
    :math:`\frac1n \sum_i \log \sum_j \pi_j \mathcal{N}(x_i \mid \mu_j,
    \Sigma_j)` until its change is below ``tol``.

    References
    ----------
    .. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood
       from incomplete data via the EM algorithm", J. R. Stat. Soc. B 39(1),
       1977.
    .. [2] C. M. Bishop, "Pattern Recognition and Machine Learning",
       Springer, 2006, section 9.2.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.mixture import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> gm.means_
    array([[10.,  2.],
           [ 1.,  2.]])
    >>> gm.predict([[0, 0], [12, 3]])
    array([1, 0])
    """

    weights_: np.ndarray
    means_: np.ndarray
    covariances_: np.ndarray
    precisions_: np.ndarray
    precisions_cholesky_: np.ndarray
    converged_: bool
    n_iter_: int
    lower_bound_: float
    lower_bounds_: list[float]
    n_features_in_: int

    def __init__(
        self,
        n_components: int = 1,
        *,
        covariance_type: str = "full",
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        max_iter: int = 100,
        n_init: int = 1,
        init_params: str = "kmeans",
        weights_init: Any = None,
        means_init: Any = None,
        precisions_init: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: int = 0,
        verbose_interval: int = 10,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # ----- scikit-learn's estimator protocol ------------------------------

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, by name."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params: Any) -> GaussianMixture:
        """Set constructor arguments by name; returns ``self``."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator GaussianMixture(). "
                    f"Valid parameters are: {sorted(_PARAMS)!r}."
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = []
        for name in _PARAMS:
            value = getattr(self, name)
            default = _DEFAULTS[name]
            same = value is default or (
                not isinstance(value, np.ndarray) and type(value) is type(default)
                and value == default
            )
            if not same:
                changed.append(f"{name}={value!r}")
        return f"GaussianMixture({', '.join(changed)})"

    # ----- fitting ---------------------------------------------------------

    def _validate_params(self) -> None:
        owner = "GaussianMixture"
        _check_int(self.n_components, "n_components", 1, owner)
        _check_option(self.covariance_type, "covariance_type", _COV_TYPES, owner)
        _check_nonneg(self.tol, "tol", owner)
        _check_nonneg(self.reg_covar, "reg_covar", owner)
        _check_int(self.max_iter, "max_iter", 0, owner)
        _check_int(self.n_init, "n_init", 1, owner)
        _check_option(self.init_params, "init_params", _INITS, owner)
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise ValueError(
                "The 'warm_start' parameter of GaussianMixture must be an instance of "
                f"'bool'. Got {self.warm_start!r} instead."
            )
        if not (_is_int(self.verbose) or isinstance(self.verbose, bool)) or self.verbose < 0:
            raise ValueError(
                "The 'verbose' parameter of GaussianMixture must be a non-negative int. "
                f"Got {self.verbose!r} instead."
            )
        _check_int(self.verbose_interval, "verbose_interval", 1, owner)
        if not (
            self.random_state is None or _is_int(self.random_state)
            or isinstance(self.random_state, np.random.RandomState)
        ):
            raise ValueError(
                "The 'random_state' parameter of GaussianMixture must be an int, an "
                f"instance of 'numpy.random.RandomState' or None. Got {self.random_state!r} "
                "instead."
            )

    def fit(self, X: Any, y: Any = None) -> GaussianMixture:
        """Estimate the parameters by EM; the best of ``n_init`` runs is kept.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            The data, one point per row.
        y : ignored

        Returns
        -------
        self : GaussianMixture
        """
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit as :meth:`fit` does and return the most probable component of each point."""
        from fastinf.kernels import mixture as K

        self._validate_params()
        X = _check_X(X, "GaussianMixture", min_samples=2)
        n, d = X.shape
        k = int(self.n_components)
        if n < k:
            raise ValueError(
                "Expected n_samples >= n_components "
                f"but got n_components = {k}, n_samples = {n}"
            )
        cov_type = self.covariance_type
        w_init = None if self.weights_init is None else _check_weights(self.weights_init, k)
        m_init = None if self.means_init is None else _check_means(self.means_init, k, d)
        p_init = None if self.precisions_init is None else _check_precisions(
            self.precisions_init, cov_type, k, d
        )
        self.n_features_in_ = d
        tri = cov_type in ("full", "tied")
        code = _COV_TYPES.index(cov_type)
        tol = float(self.tol)
        reg = float(self.reg_covar)

        do_init = not (self.warm_start and hasattr(self, "converged_"))
        n_init = int(self.n_init) if do_init else 1
        max_lower_bound = -np.inf
        best_lower_bounds: list[float] = []
        best: tuple[Any, ...] | None = None
        best_n_iter = 0
        self.converged_ = False
        rs = _check_random_state(self.random_state)

        for init in range(n_init):
            self._verbose_init_beg(init)
            if do_init:
                params = self._initial_parameters(X, rs, w_init, m_init, p_init)
            else:
                params = (self.weights_, self.means_, self.covariances_,
                          self.precisions_cholesky_)
            lower_bound = -np.inf if do_init else float(self.lower_bound_)
            lower_bounds: list[float] = []
            if self.max_iter == 0:
                best = params
                best_n_iter = 0
                continue
            weights, means, covariances, prec_chol = params
            means = np.ascontiguousarray(means, dtype=np.float64)
            prec3 = _to_kernel(prec_chol, cov_type, k, d)
            cov3 = None
            converged = False
            n_iter = 0
            for n_iter in range(1, int(self.max_iter) + 1):
                prev = lower_bound
                log_det = _log_det_chol(_from_kernel(prec3, cov_type), cov_type, d)
                const = np.ascontiguousarray(np.log(weights) + log_det - 0.5 * d * _LOG_2PI,
                                             dtype=np.float64)
                stats, ll = K.em_pass(X, const, means, prec3, means, tri, _CHUNK)
                nk, means, cov3, prec3, status = K.m_step(stats, means, reg, code, d)
                if status:
                    raise ValueError(_ILL_DEFINED)
                weights = nk / nk.sum()
                lower_bound = ll / n
                lower_bounds.append(lower_bound)
                change = lower_bound - prev
                self._verbose_iter_end(n_iter, change)
                if abs(change) < tol:
                    converged = True
                    break
            self._verbose_init_end(lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                assert cov3 is not None
                max_lower_bound = lower_bound
                best = (weights, means, _from_kernel(cov3, cov_type),
                        _from_kernel(prec3, cov_type))
                best_n_iter = n_iter
                best_lower_bounds = lower_bounds
                self.converged_ = converged

        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning, stacklevel=2,
            )
        assert best is not None
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = best
        self.precisions_ = _precisions(self.precisions_cholesky_, cov_type)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = best_lower_bounds
        # A final E-step, so that fit_predict(X) == fit(X).predict(X).
        wlp, _ = self._log_prob(X)
        return np.argmax(wlp, axis=1)

    def _initial_parameters(
        self, X: np.ndarray, rs: np.random.RandomState, w_init: np.ndarray | None,
        m_init: np.ndarray | None, p_init: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(weights, means, covariances, precisions_cholesky) to start EM from."""
        n = X.shape[0]
        cov_type = self.covariance_type
        weights = means = cov = prec_chol = None
        if w_init is None or m_init is None or p_init is None:
            resp = self._initial_resp(X, rs)
            nk, means, cov = _gaussian_parameters(X, resp, float(self.reg_covar), cov_type)
            weights = nk / n
            prec_chol = _precision_cholesky(cov, cov_type)
        if w_init is not None:
            weights = w_init.copy()
        if m_init is not None:
            means = m_init.copy()
        if p_init is not None:
            prec_chol = _prec_chol_from_precisions(p_init, cov_type)
            if cov is None:
                cov = _covariances_from_precisions(p_init, cov_type)
        assert weights is not None and means is not None
        assert cov is not None and prec_chol is not None
        return weights, means, cov, prec_chol

    def _initial_resp(self, X: np.ndarray, rs: np.random.RandomState) -> np.ndarray:
        n = X.shape[0]
        k = int(self.n_components)
        init = self.init_params
        if init == "random":
            resp = rs.uniform(size=(n, k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
            return np.ascontiguousarray(resp)
        resp = np.zeros((n, k))
        if init == "kmeans":
            resp[np.arange(n), _kmeans_labels(X, k, rs)] = 1.0
        elif init == "random_from_data":
            resp[rs.choice(n, size=k, replace=False), np.arange(k)] = 1.0
        else:  # 'k-means++'
            x_sq = np.einsum("ij,ij->i", X, X)
            resp[_kmeanspp_indices(X, k, x_sq, rs), np.arange(k)] = 1.0
        return resp

    # ----- verbose messages (scikit-learn's) -------------------------------

    def _verbose_init_beg(self, n_init: int) -> None:
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
        if self.verbose >= 2:
            self._init_prev_time = time.time()
            self._iter_prev_time = self._init_prev_time

    def _verbose_iter_end(self, n_iter: int, diff_ll: float) -> None:
        if n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            elif self.verbose >= 2:
                now = time.time()
                print(f"  Iteration {n_iter}\t time lapse {now - self._iter_prev_time:.5f}s"
                      f"\t ll change {diff_ll:.5f}")
                self._iter_prev_time = now

    def _verbose_init_end(self, lb: float, converged: bool) -> None:
        msg = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {msg}.")
        elif self.verbose >= 2:
            t = time.time() - self._init_prev_time
            print(f"Initialization {msg}. time lapse {t:.5f}s\t lower bound {lb:.5f}.")

    # ----- using the fitted model -----------------------------------------

    def _check_fitted(self, X: Any) -> np.ndarray:
        if not hasattr(self, "means_"):
            raise NotFittedError(
                "This GaussianMixture instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        X = _check_X(X, "GaussianMixture")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but GaussianMixture is expecting "
                f"{self.n_features_in_} features as input."
            )
        return X

    def _log_prob(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(log w_j + log N(x_i | j), log p(x_i))`` under the current parameters."""
        from fastinf.kernels import mixture as K

        cov_type = self.covariance_type
        means = np.ascontiguousarray(self.means_, dtype=np.float64)
        k, d = means.shape
        prec_chol = np.asarray(self.precisions_cholesky_, dtype=np.float64)
        with np.errstate(divide="ignore"):
            const = np.log(np.asarray(self.weights_, dtype=np.float64))
        const = np.ascontiguousarray(
            const + _log_det_chol(prec_chol, cov_type, d) - 0.5 * d * _LOG_2PI
        )
        wlp = np.empty((X.shape[0], k))
        lpn = np.empty(X.shape[0])
        K.log_prob(X, const, means, _to_kernel(prec_chol, cov_type, k, d),
                   cov_type in ("full", "tied"), wlp, lpn)
        return wlp, lpn

    def score_samples(self, X: Any) -> np.ndarray:
        """Log-likelihood of each point, ``log sum_j w_j N(x_i | mu_j, Sigma_j)``."""
        return self._log_prob(self._check_fitted(X))[1]

    def score(self, X: Any, y: Any = None) -> float:
        """Mean log-likelihood of the points of ``X``."""
        return float(np.mean(self.score_samples(X)))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable component of each point."""
        return np.argmax(self._log_prob(self._check_fitted(X))[0], axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """The responsibilities: posterior probability of each component for each point."""
        wlp, lpn = self._log_prob(self._check_fitted(X))
        with np.errstate(under="ignore"):
            return np.exp(wlp - lpn[:, np.newaxis])

    def _n_parameters(self) -> int:
        k, d = np.shape(self.means_)
        cov = {"full": k * d * (d + 1) / 2.0, "diag": k * d, "tied": d * (d + 1) / 2.0,
               "spherical": k}[self.covariance_type]
        return int(cov + d * k + k - 1)

    def bic(self, X: Any) -> float:
        """Bayesian information criterion, ``-2 n score + p log n`` (lower is better)."""
        n = np.shape(X)[0]
        return float(-2.0 * self.score(X) * n + self._n_parameters() * math.log(n))

    def aic(self, X: Any) -> float:
        """Akaike information criterion, ``-2 n score + 2 p`` (lower is better)."""
        n = np.shape(X)[0]
        return float(-2.0 * self.score(X) * n + 2 * self._n_parameters())

    def sample(self, n_samples: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` points from the fitted mixture (as scikit-learn draws them).

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The points, grouped by component.
        y : ndarray of shape (n_samples,)
            The component of each point.
        """
        if not hasattr(self, "means_"):
            raise NotFittedError(
                "This GaussianMixture instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )
        if not _is_int(n_samples) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r} . The sampling requires at "
                "least one sample."
            )
        d = self.means_.shape[1]
        rng = _check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        if self.covariance_type == "full":
            parts = [rng.multivariate_normal(m, c, int(s))
                     for m, c, s in zip(self.means_, self.covariances_, counts, strict=True)]
        elif self.covariance_type == "tied":
            parts = [rng.multivariate_normal(m, self.covariances_, int(s))
                     for m, s in zip(self.means_, counts, strict=True)]
        else:
            parts = [m + rng.standard_normal(size=(s, d)) * np.sqrt(c)
                     for m, c, s in zip(self.means_, self.covariances_, counts, strict=True)]
        y = np.concatenate([np.full(int(s), j, dtype=np.int64) for j, s in enumerate(counts)])
        return np.vstack(parts).astype(np.float64), y


def _gaussian_parameters(
    X: np.ndarray, resp: np.ndarray, reg: float, cov_type: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(nk, means, covariances)`` from responsibilities, by scikit-learn's formulas.

    Used once per initialisation (the EM iterations use the fused kernel);
    keeping scikit-learn's expressions here gives its starting point to the
    last bit. In particular the tied covariance ``(X^T X - sum_j nk_j m_j
    m_j^T) / sum(nk)`` counts every point fully, even where one-hot seeds
    leave a row of ``resp`` at zero.
    """
    d = X.shape[1]
    nk = resp.sum(axis=0) + 10 * np.finfo(np.float64).eps
    means = (resp.T @ X) / nk[:, np.newaxis]
    if cov_type == "full":
        cov = np.empty((nk.size, d, d))
        for j in range(nk.size):
            diff = X - means[j]
            cov[j] = (resp[:, j] * diff.T) @ diff / nk[j]
            cov[j].flat[:: d + 1] += reg
    elif cov_type == "tied":
        cov = X.T @ X - (nk * means.T) @ means
        cov /= nk.sum()
        cov.flat[:: d + 1] += reg
    else:
        cov = (resp.T @ (X * X)) / nk[:, np.newaxis] - means**2 + reg
        if cov_type == "spherical":
            cov = cov.mean(axis=1)
    return nk, means, cov


def _precision_cholesky(cov: np.ndarray, cov_type: str) -> np.ndarray:
    """Upper-triangular ``L^-T`` of each covariance ``L L^T`` (or ``1 / sqrt``)."""
    if cov_type in ("full", "tied"):
        d = cov.shape[-1]
        mats = cov.reshape(-1, d, d)
        out = np.empty_like(mats)
        for j, mat in enumerate(mats):
            try:
                chol = np.linalg.cholesky(mat)
            except np.linalg.LinAlgError:
                raise ValueError(_ILL_DEFINED) from None
            out[j] = np.linalg.solve(chol, np.eye(d)).T
        return out.reshape(cov.shape)
    if not np.all(cov > 0.0):
        raise ValueError(_ILL_DEFINED)
    return 1.0 / np.sqrt(cov)


def _covariances_from_precisions(p: np.ndarray, cov_type: str) -> np.ndarray:
    if cov_type in ("full", "tied"):
        return np.linalg.inv(p)
    return 1.0 / p


# --------------------------------------------------------------------------
# Many 1-D mixtures at once
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GaussianMixtureBatchResult:
    """Fitted 1-D Gaussian mixtures, one per experiment (:func:`fit_batch`).

    Attributes
    ----------
    weights_, means_, covariances_ : ndarray of shape (E, n_components)
        Weights, means and variances of each experiment's components (for
        'tied' the shared variance, repeated).
    converged_ : ndarray of bool, shape (E,)
    n_iter_ : ndarray of int, shape (E,)
    lower_bound_ : ndarray of shape (E,)
        As :class:`GaussianMixture`'s attributes of the same names.
    covariance_type : str
    """

    weights_: np.ndarray
    means_: np.ndarray
    covariances_: np.ndarray
    converged_: np.ndarray
    n_iter_: np.ndarray
    lower_bound_: np.ndarray
    covariance_type: str

    @property
    def precisions_(self) -> np.ndarray:
        """Inverse variances, shape (E, n_components)."""
        return 1.0 / self.covariances_

    def _log_prob(self, data: Any) -> tuple[Ragged | None, tuple[int, int] | None,
                                            np.ndarray, np.ndarray]:
        from fastinf.kernels import mixture as K

        ragged, shape, values, offsets = _batch_layout(data)
        if offsets.size - 1 != self.weights_.shape[0]:
            raise ValueError(
                f"`data` has {offsets.size - 1} experiments, but the mixtures were fitted "
                f"to {self.weights_.shape[0]}."
            )
        k = self.weights_.shape[1]
        wlp = np.empty((values.size, k))
        lpn = np.empty(values.size)
        with np.errstate(divide="ignore"):
            K.log_prob_1d(values, offsets, self.weights_, self.means_, self.covariances_,
                          wlp, lpn)
        return ragged, shape, wlp, lpn

    def score_samples(self, data: Any) -> Any:
        """Log-likelihood of every point, in ``data``'s layout (2-D array or Ragged)."""
        ragged, shape, _, lpn = self._log_prob(data)
        if ragged is not None:
            return Ragged(lpn, ragged.offsets)
        assert shape is not None
        return lpn.reshape(shape)

    def score(self, data: Any) -> np.ndarray:
        """Mean log-likelihood of each experiment's points, shape (E,)."""
        ragged, shape, _, lpn = self._log_prob(data)
        offsets = _batch_layout(data)[3]
        sizes = np.diff(offsets)
        return np.add.reduceat(lpn, offsets[:-1]) / sizes if lpn.size else np.full(sizes.size, np.nan)

    def predict(self, data: Any) -> Any:
        """The most probable component of every point, in ``data``'s layout."""
        ragged, shape, wlp, _ = self._log_prob(data)
        labels = np.argmax(wlp, axis=1)
        if ragged is not None:
            return Ragged(labels, ragged.offsets)
        assert shape is not None
        return labels.reshape(shape)

    def predict_proba(self, data: Any) -> np.ndarray:
        """Responsibilities: ``(E, n, k)`` for a 2-D ``data``, ``(N, k)`` rows for a Ragged."""
        ragged, shape, wlp, lpn = self._log_prob(data)
        with np.errstate(under="ignore"):
            resp = np.exp(wlp - lpn[:, None])
        if ragged is not None:
            return resp
        assert shape is not None
        return resp.reshape(*shape, -1)

    def _n_parameters(self) -> int:
        k = self.weights_.shape[1]
        return 2 * k if self.covariance_type == "tied" else 3 * k - 1

    def bic(self, data: Any) -> np.ndarray:
        """Per-experiment BIC, ``-2 n score + p log n``, shape (E,)."""
        sizes = np.diff(_batch_layout(data)[3])
        return -2.0 * self.score(data) * sizes + self._n_parameters() * np.log(sizes)

    def aic(self, data: Any) -> np.ndarray:
        """Per-experiment AIC, ``-2 n score + 2 p``, shape (E,)."""
        sizes = np.diff(_batch_layout(data)[3])
        return -2.0 * self.score(data) * sizes + 2 * self._n_parameters()


def _batch_layout(data: Any) -> tuple[Ragged | None, tuple[int, int] | None,
                                      np.ndarray, np.ndarray]:
    """``(ragged, shape, values, offsets)`` of a 2-D ``(E, n)`` array or a Ragged."""
    if isinstance(data, Ragged):
        values = np.ascontiguousarray(data.values, dtype=np.float64)
        return data, None, values, np.ascontiguousarray(data.offsets, dtype=np.int64)
    try:
        arr = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("`data` must be a 2-D array of reals or a fastinf.Ragged.") from None
    if arr.ndim != 2:
        raise ValueError(
            f"`data` must be a 2-D array (experiments x points) or a fastinf.Ragged; got "
            f"a {arr.ndim}-D array (use data.reshape(1, -1) for one experiment)."
        )
    E, n = arr.shape
    offsets = np.arange(E + 1, dtype=np.int64) * n
    return None, (E, n), np.ascontiguousarray(arr).ravel(), offsets


def _per_experiment(value: Any, name: str, E: int, k: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape == (k,):
        arr = np.broadcast_to(arr, (E, k))
    if arr.shape != (E, k):
        raise ValueError(
            f"`{name}` must have shape (n_components,) = ({k},) or (E, n_components) = "
            f"({E}, {k}); got {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"`{name}` must be finite.")
    return np.ascontiguousarray(arr)


def _cost_blocks(sizes: np.ndarray, n_threads: int, per_thread: int = 32) -> np.ndarray:
    """Bounds of contiguous blocks of experiments of about equal total size."""
    E = sizes.size
    n_blocks = int(min(E, per_thread * n_threads))
    if n_blocks <= 1:
        return np.array([0, E], dtype=np.int64)
    before = np.concatenate(([0.0], np.cumsum(sizes + 16.0)))
    cuts = np.searchsorted(before, before[-1] * np.arange(1, n_blocks) / n_blocks)
    return np.concatenate(([0], np.maximum.accumulate(cuts), [E])).astype(np.int64)


def _fit_batch_iv(
    data: Any, n_components: Any, covariance_type: Any, tol: Any, reg_covar: Any,
    max_iter: Any, n_init: Any, init_params: Any, weights_init: Any, means_init: Any,
    precisions_init: Any, random_state: Any,
) -> dict[str, Any]:
    from fastinf.rng import as_seed

    owner = "fit_batch"
    k = _check_int(n_components, "n_components", 1, owner)
    cov_type = _check_option(covariance_type, "covariance_type", _COV_TYPES, owner)
    tol = _check_nonneg(tol, "tol", owner)
    reg = _check_nonneg(reg_covar, "reg_covar", owner)
    max_iter = _check_int(max_iter, "max_iter", 0, owner)
    n_init = _check_int(n_init, "n_init", 1, owner)
    init = _check_option(init_params, "init_params", _INITS, owner)
    _, _, values, offsets = _batch_layout(data)
    E = offsets.size - 1
    if E < 1:
        raise ValueError("`data` must hold at least one experiment.")
    sizes = np.diff(offsets)
    small = np.flatnonzero(sizes < max(2, k))
    if small.size:
        e = int(small[0])
        raise ValueError(
            f"Experiment {e} has {int(sizes[e])} point(s); a mixture of {k} component(s) "
            f"needs at least {max(2, k)} (n_samples >= n_components and >= 2)."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        e = int(np.searchsorted(offsets, np.argmax(bad), side="right") - 1)
        what = "NaN" if np.isnan(values[np.argmax(bad)]) else "infinity"
        raise ValueError(f"Experiment {e} contains {what}; every value must be finite.")
    given = np.array([weights_init is not None, means_init is not None,
                      precisions_init is not None])
    w0 = np.zeros((E, k))
    m0 = np.zeros((E, k))
    p0 = np.ones((E, k))
    if weights_init is not None:
        w0 = _per_experiment(weights_init, "weights_init", E, k)
        bad_e = np.flatnonzero(((w0 < 0) | (w0 > 1)).any(axis=1)
                               | ~(np.abs(1.0 - w0.sum(axis=1)) <= 1e-8))
        if bad_e.size:
            raise ValueError(
                f"`weights_init` of experiment {int(bad_e[0])} must lie in [0, 1] and sum "
                "to 1."
            )
    if means_init is not None:
        m0 = _per_experiment(means_init, "means_init", E, k)
    if precisions_init is not None:
        p0 = _per_experiment(precisions_init, "precisions_init", E, k)
        if cov_type == "tied":
            uneq = np.flatnonzero((p0 != p0[:, :1]).any(axis=1))
            if uneq.size:
                raise ValueError(
                    "For covariance_type='tied', `precisions_init` must be the same for all "
                    f"components; experiment {int(uneq[0])} differs."
                )
        bad_e = np.flatnonzero((p0 <= 0).any(axis=1))
        if bad_e.size:
            raise ValueError(
                f"`precisions_init` of experiment {int(bad_e[0])} must be positive."
            )
    return dict(
        k=k, cov_type=cov_type, tol=tol, reg=reg, max_iter=max_iter, n_init=n_init,
        init=_INITS.index(init), values=values, offsets=offsets, sizes=sizes,
        seed=as_seed(random_state, "random_state"), given=given, w0=w0, m0=m0, p0=p0,
    )


def fit_batch(
    data: Any,
    n_components: int = 1,
    *,
    covariance_type: str = "full",
    tol: float = 1e-3,
    reg_covar: float = 1e-6,
    max_iter: int = 100,
    n_init: int = 1,
    init_params: str = "kmeans",
    weights_init: Any = None,
    means_init: Any = None,
    precisions_init: Any = None,
    random_state: Any = None,
) -> GaussianMixtureBatchResult:
    r"""Fit an independent 1-D Gaussian mixture to every experiment, in parallel.

    Each experiment runs what ``GaussianMixture(n_components, ...).fit(x_e[:, None])``
    runs (the same initialisation schemes, EM iterations, convergence test and
    choice of the best of ``n_init``), on its own thread.

    Parameters
    ----------
    data : array_like of shape (E, n) or fastinf.Ragged
        One experiment per row (or per Ragged row, of any size).
    n_components : int, default=1
        Components per mixture.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        In 1-D 'full', 'diag' and 'spherical' coincide (a variance per
        component); 'tied' shares one variance.
    tol, reg_covar, max_iter, n_init : optional
        As in :class:`GaussianMixture`.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        As in :class:`GaussianMixture`, with the random draws taken from the
        counter-based generator keyed by ``(seed, experiment, init)`` (so not
        scikit-learn's draws).
    weights_init, means_init, precisions_init : array_like, optional
        Shape ``(n_components,)`` (for every experiment) or ``(E,
        n_components)``; each replaces the one ``init_params`` would give.
    random_state : None, int or numpy.random.Generator, optional
        Seed of the random initialisations (see :func:`fastinf.rng.as_seed`).

    Returns
    -------
    GaussianMixtureBatchResult
        ``weights_``, ``means_``, ``covariances_`` (variances) of shape
        ``(E, n_components)``; ``converged_``, ``n_iter_``, ``lower_bound_``
        of shape ``(E,)``; methods ``predict``, ``predict_proba``,
        ``score_samples``, ``score``, ``bic``, ``aic`` on data of the same
        layout.

    Warns
    -----
    ConvergenceWarning
        If some experiments did not converge within ``max_iter``.

    Notes
    -----
    With responsibilities :math:`r_{ij}`, the M-step of experiment ``e`` sets

    .. math::

        \pi_j = \frac{N_j}{n_e},\quad \mu_j = \frac{\sum_i r_{ij} x_i}{N_j},\quad
        \sigma^2_j = \frac{\sum_i r_{ij} (x_i - \mu_j)^2}{N_j} + \epsilon

    (for 'tied', :math:`\sigma^2 = \sum_j \sum_i r_{ij}(x_i - \mu_j)^2 / n_e
    + \epsilon`), see :class:`GaussianMixture` and [1]_.

    References
    ----------
    .. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood
       from incomplete data via the EM algorithm", J. R. Stat. Soc. B 39(1),
       1977.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.mixture import fit_batch
    >>> rng = np.random.default_rng(0)
    >>> x = np.concatenate([rng.normal(0, 1, (3, 500)), rng.normal(6, 1, (3, 500))], axis=1)
    >>> res = fit_batch(x, 2, random_state=1)
    >>> res.means_.shape, res.n_iter_.shape
    ((3, 2), (3,))
    >>> bool(np.all(np.abs(np.sort(res.means_, axis=1) - [0.0, 6.0]) < 0.2))
    True
    >>> res.converged_.all()
    np.True_
    """
    import numba

    from fastinf.kernels import mixture as K

    iv = _fit_batch_iv(data, n_components, covariance_type, tol, reg_covar, max_iter,
                       n_init, init_params, weights_init, means_init, precisions_init,
                       random_state)
    E = iv["offsets"].size - 1
    k = iv["k"]
    out_w = np.empty((E, k))
    out_m = np.empty((E, k))
    out_v = np.empty((E, k))
    out_conv = np.zeros(E, dtype=np.bool_)
    out_iter = np.zeros(E, dtype=np.int64)
    out_lb = np.empty(E)
    status = np.zeros(E, dtype=np.int64)
    bounds = _cost_blocks(iv["sizes"].astype(np.float64), numba.get_num_threads())
    with np.errstate(divide="ignore"):
        K.fit_batch_1d(
            iv["values"], iv["offsets"], bounds, k, iv["cov_type"] == "tied", iv["tol"],
            iv["reg"], iv["max_iter"], iv["n_init"], iv["init"], iv["seed"], iv["w0"],
            iv["m0"], iv["p0"], iv["given"], out_w, out_m, out_v, out_conv, out_iter,
            out_lb, status,
        )
    failed = np.flatnonzero(status)
    if failed.size:
        raise ValueError(
            f"Experiment {int(failed[0])}: " + _ILL_DEFINED
            + f" ({failed.size} experiment(s) failed.)"
        )
    if iv["max_iter"] > 0 and not out_conv.all():
        bad = np.flatnonzero(~out_conv)
        warnings.warn(
            f"{bad.size} of {E} experiment(s) did not converge (first: experiment "
            f"{int(bad[0])}). Try different init parameters, or increase max_iter, tol, "
            "or check for degenerate data.",
            ConvergenceWarning, stacklevel=2,
        )
    return GaussianMixtureBatchResult(
        weights_=out_w, means_=out_m, covariances_=out_v, converged_=out_conv,
        n_iter_=out_iter, lower_bound_=out_lb, covariance_type=iv["cov_type"],
    )
