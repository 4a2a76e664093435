"""Samples as per-experiment blocks: the validation and layout shared by the tests.

The tests of :mod:`fastinf.ttests` and :mod:`fastinf.tables` accept scipy's
N-D arrays with an ``axis``: every position along the other axes is one
experiment. :func:`make_layout` moves ``axis`` last, broadcasts the other
axes against each other and flattens them, so that each sample becomes a
C-contiguous float64 block of shape ``(E, n)`` (one row per experiment), the
form the kernels take; :meth:`Layout.finish` puts a per-experiment result
back in the batch shape (with ``keepdims`` as scipy). The checks of the
arguments every test shares (``alternative``, ``nan_policy``, numeric input)
and scipy's ``SmallSampleWarning`` messages live here too, so that all the
tests word them alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.ragged import SmallSampleWarning

ALT_NUM = {"less": -1, "two-sided": 0, "greater": 1}
NAN_POLICIES = ("propagate", "omit", "raise")

# scipy's SmallSampleWarning messages (scipy/stats/_axis_nan_policy.py).
_TOO_SMALL_1D = (
    "One or more sample arguments is too small; all returned values will be NaN. "
    "See documentation for sample size requirements."
)
_TOO_SMALL_1D_OMIT = (
    "After omitting NaNs, one or more sample arguments is too small; all returned "
    "values will be NaN. See documentation for sample size requirements."
)
_TOO_SMALL_ND = (
    "All axis-slices of one or more sample arguments are too small; all elements "
    "of returned arrays will be NaN. See documentation for sample size requirements."
)
_TOO_SMALL_ND_OMIT = (
    "After omitting NaNs, one or more axis-slices of one or more sample arguments "
    "is too small; corresponding elements of returned arrays will be NaN. "
    "See documentation for sample size requirements."
)


def scalar(x: Any) -> Any:
    """A 0-d array as a NumPy scalar; anything else as an array."""
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def check_alternative(alternative: str) -> None:
    """Raise unless `alternative` is one of scipy's three."""
    if alternative not in ALT_NUM:
        raise ValueError("`alternative` must be 'less', 'greater', or 'two-sided'.")


def check_nan_policy(nan_policy: str) -> None:
    """Raise unless `nan_policy` is one of scipy's three."""
    if nan_policy not in NAN_POLICIES:
        raise ValueError("nan_policy must be one of {'raise', 'propagate', 'omit'}.")


def as_float(x: Any, name: str) -> np.ndarray:
    """`x` as a float64 array; a clear error naming `name` if not real numbers."""
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be real, got complex values.")
    return arr.astype(np.float64, copy=False)


@dataclass(frozen=True)
class Layout:
    """Samples as C-contiguous ``(E, n_j)`` blocks, with the batch shape."""

    blocks: list[np.ndarray]
    shape: tuple[int, ...]
    one_d: bool
    axis: int | None  # where to re-insert the reduced axis for keepdims
    ndim: int

    def finish(self, res: np.ndarray, keepdims: bool) -> Any:
        """Reshape a per-experiment result to the batch shape (a scalar for one)."""
        out = np.asarray(res).reshape(self.shape)
        if keepdims:
            if self.axis is None:
                out = out.reshape((1,) * self.ndim)
            else:
                out = np.expand_dims(out, self.axis)
        return scalar(out)


def make_layout(
    samples: list[np.ndarray], names: list[str], axis: int | None, paired: bool = False
) -> Layout:
    """Move `axis` last, broadcast the other axes and flatten them to rows."""
    one_d = all(s.ndim <= 1 for s in samples)
    if axis is None:
        ndim = max(s.ndim for s in samples)
        samples = [s.ravel() for s in samples]
        keep_axis = None
        axis = 0
    else:
        if int(axis) != axis:
            raise ValueError("`axis` must be an integer.")
        axis = int(axis)
        samples = [np.atleast_1d(s) for s in samples]
        ndim = max(s.ndim for s in samples)
        samples = [s.reshape((1,) * (ndim - s.ndim) + s.shape) for s in samples]
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(
                f"`axis` is out of bounds for array of dimension {ndim}"
            )
        axis = axis % ndim
        keep_axis = axis
    moved = [np.moveaxis(s, axis, -1) for s in samples]
    try:
        if paired:
            full = np.broadcast_shapes(*(m.shape for m in moved))
            moved = [np.broadcast_to(m, full) for m in moved]
        shape = tuple(np.broadcast_shapes(*(m.shape[:-1] for m in moved)))
    except ValueError:
        raise ValueError("Array shapes are incompatible for broadcasting.") from None
    n_exp = int(np.prod(shape, dtype=np.int64))
    blocks = []
    for m in moved:
        n = m.shape[-1]
        block = np.broadcast_to(m, shape + (n,)).reshape(n_exp, n)
        blocks.append(np.ascontiguousarray(block, dtype=np.float64))
    return Layout(blocks, shape, one_d, keep_axis, ndim)


def warn_small(one_d: bool, omitted: bool, stacklevel: int = 3) -> None:
    """Give scipy's ``SmallSampleWarning`` for too-small (or, omitted, emptied) samples."""
    if one_d:
        msg = _TOO_SMALL_1D_OMIT if omitted else _TOO_SMALL_1D
    else:
        msg = _TOO_SMALL_ND_OMIT if omitted else _TOO_SMALL_ND
    warnings.warn(msg, SmallSampleWarning, stacklevel=stacklevel + 1)


def raise_on_nan(*arrays: np.ndarray) -> None:
    """``nan_policy='raise'``: raise as scipy if any array holds a NaN."""
    for arr in arrays:
        if np.isnan(arr).any():
            raise ValueError("The input contains nan values")
