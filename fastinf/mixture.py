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

The module is split by idea; every public name is importable from here:

- :mod:`fastinf.mixture` (this module): :class:`GaussianMixture`, its fit
  loop and the methods that use a fitted model;
- :mod:`fastinf._mixture_params`: :class:`ConvergenceWarning`,
  :class:`NotFittedError`, the argument checks and the conversions between
  scikit-learn's parameter shapes and the kernels' layout, shared by both
  APIs;
- :mod:`fastinf._mixture_init`: the k-means / k-means++ initialisation and
  the starting parameters, drawn and computed as scikit-learn does;
- :mod:`fastinf._mixture_batch`: :func:`fit_batch` and
  :class:`GaussianMixtureBatchResult`;
- :mod:`fastinf.kernels.mixture`: the Numba kernels.
"""

from __future__ import annotations

import math
import time
import warnings
from typing import Any

import numpy as np

from fastinf._mixture_batch import GaussianMixtureBatchResult, fit_batch
from fastinf._mixture_init import (
    _covariances_from_precisions,
    _gaussian_parameters,
    _kmeans_labels,
    _kmeanspp_indices,
    _precision_cholesky,
)
from fastinf._mixture_params import (
    _COV_TYPES,
    _ILL_DEFINED,
    _INITS,
    ConvergenceWarning,
    NotFittedError,
    _check_int,
    _check_means,
    _check_nonneg,
    _check_option,
    _check_precisions,
    _check_random_state,
    _check_weights,
    _check_X,
    _from_kernel,
    _is_int,
    _log_det_chol,
    _prec_chol_from_precisions,
    _precisions,
    _to_kernel,
)

__all__ = [
    "ConvergenceWarning",
    "GaussianMixture",
    "GaussianMixtureBatchResult",
    "NotFittedError",
    "fit_batch",
]

_CHUNK = 2048  # points per partial sum of the E-step
_LOG_2PI = math.log(2.0 * math.pi)


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
