"""How :class:`fastinf.mixture.GaussianMixture` chooses its starting point, as scikit-learn does.

scikit-learn starts EM from responsibilities (k-means labels, k-means++
seeds, random responsibilities or random points, all drawn from one
``numpy.random.RandomState``) and turns them into weights, means and
covariances with its own formulas. This module re-implements both parts so
that an integer ``random_state`` gives scikit-learn's starting point to the
last bit, without scikit-learn at run time:

- :func:`_kmeanspp_indices` and :func:`_kmeans_labels`: greedy k-means++
  seeding and Lloyd's iteration, with scikit-learn's draws, stopping rule
  and relocation of empty clusters (the distance passes run in
  :func:`fastinf.kernels.mixture.kmeanspp` and
  :func:`fastinf.kernels.mixture.lloyd_step`);
- :func:`_gaussian_parameters`, :func:`_precision_cholesky` and
  :func:`_covariances_from_precisions`: the starting parameters from
  responsibilities, or from user-given precisions.

The EM iterations themselves run in the fused kernels, see
:mod:`fastinf.mixture`.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastinf._mixture_params import _ILL_DEFINED, ConvergenceWarning

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
# Starting parameters, by scikit-learn's formulas
# --------------------------------------------------------------------------


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
