"""Small dense linear algebra inside kernels (d x d matrices, d small).

NumPy's ``linalg`` in Numba calls LAPACK, which allocates and cannot run in
a ``prange`` body without per-call overhead that dwarfs a 2 x 2 or 5 x 5
factorisation; these loops are the ones the EM and Metropolis kernels share.
"""

from __future__ import annotations

import math

from fastinf.kernels._jit import jit


@jit
def cholesky_into(a, out):  # type: ignore[no-untyped-def]
    r"""Lower Cholesky factor of ``a`` into ``out``; False if ``a`` is not positive definite.

    Column by column (Cholesky-Crout order): :math:`L_{jj} =
    \sqrt{a_{jj} - \sum_{k<j} L_{jk}^2}`, then :math:`L_{ij} = (a_{ij} -
    \sum_{k<j} L_{ik} L_{jk}) / L_{jj}` for :math:`i > j` (Golub & Van
    Loan, *Matrix Computations*, 4th ed., section 4.2).
    """
    d = a.shape[0]
    for i in range(d):
        for j in range(d):
            out[i, j] = 0.0
    for j in range(d):
        s = a[j, j]
        for k in range(j):
            s -= out[j, k] * out[j, k]
        if not s > 0.0:
            return False
        out[j, j] = math.sqrt(s)
        for i in range(j + 1, d):
            t = a[i, j]
            for k in range(j):
                t -= out[i, k] * out[j, k]
            out[i, j] = t / out[j, j]
    return True
