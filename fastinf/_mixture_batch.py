"""Many independent 1-D Gaussian mixtures fitted in one parallel call.

:func:`fit_batch` (re-exported by :mod:`fastinf.mixture`) fits one 1-D
mixture per experiment: the experiments, given as a 2-D ``(E, n)`` array
or a :class:`fastinf.ragged.Ragged`, are cut into contiguous blocks of about
equal total size, and each experiment runs its own initialisation and EM to
convergence on one thread of :func:`fastinf.kernels.mixture.fit_batch_1d`.
Its random initialisation is drawn from the counter-based generator keyed by
the experiment's index, so results depend neither on the thread count nor
on the other experiments. :class:`GaussianMixtureBatchResult` holds the
fitted parameters and scores new data of the same layout.

The argument checks shared with :class:`fastinf.mixture.GaussianMixture`
live in :mod:`fastinf._mixture_params`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._mixture_params import (
    _COV_TYPES,
    _ILL_DEFINED,
    _INITS,
    ConvergenceWarning,
    _check_int,
    _check_nonneg,
    _check_option,
)
from fastinf.ragged import Ragged


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
