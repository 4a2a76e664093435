"""Standardised data and user log-densities for :func:`fastinf.mcmc.metropolis`.

:func:`_rows` turns every accepted data layout (one array, a list of
arrays, a :class:`~fastinf.Ragged`, a 3-D array, rows plus ``offsets``) into
one C-contiguous float64 array of rows plus per-experiment offsets, applying
``nan_policy``; :func:`_user_cfunc` wraps a user's ``@numba.njit``
log-density into the first-class function the cached kernels call. Private:
used by :mod:`fastinf.mcmc` and :mod:`fastinf._mcmc_targets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.ragged import Ragged

# --------------------------------------------------------------------------
# User log-densities: @njit f(theta, data) -> float, called through a cfunc
# --------------------------------------------------------------------------

_CFUNCS: dict[int, tuple[Any, Any]] = {}


def _user_cfunc(logdensity: Any) -> Any:
    """A cfunc ``float64(float64[:], float64[:, :])`` wrapping the user's ``@njit`` function."""
    cached = _CFUNCS.get(id(logdensity))
    if cached is not None and cached[0] is logdensity:
        return cached[1]
    import numba
    from numba import types

    from fastinf.statistics import RAISED

    raised = np.array([RAISED]).view(np.float64)[0]

    def guarded(theta, data):  # type: ignore[no-untyped-def]
        # A C function cannot raise: an exception comes back as a NaN payload.
        try:
            return np.float64(logdensity(theta, data))
        except Exception:
            return raised

    sig = types.float64(types.Array(types.float64, 1, "A"), types.Array(types.float64, 2, "A"))
    try:
        wrapped = numba.cfunc(sig)(numba.njit(guarded))
    except Exception as exc:  # typing errors of the user's function
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TypeError(
            "`logdensity` must be an @numba.njit function f(theta, data) -> float "
            "of a 1-D float64 array theta and a 2-D float64 array data; it does not "
            f"compile for those types: {first}"
        ) from exc
    _CFUNCS[id(logdensity)] = (logdensity, wrapped)
    return wrapped


def _placeholder() -> Any:
    cached = _CFUNCS.get(0)
    if cached is None:
        import numba

        cached = (None, _user_cfunc(numba.njit(_nan_density)))
        _CFUNCS[0] = cached
    return cached[1]


def _nan_density(theta, data):  # type: ignore[no-untyped-def]
    return np.nan


# --------------------------------------------------------------------------
# Data: one experiment or a batch, as 2-D rows plus offsets
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    values: np.ndarray  # (n_rows, n_cols), C-contiguous float64
    offsets: np.ndarray  # (E + 1,) int64
    batched: bool
    nan_experiments: np.ndarray  # (E,) bool

    @property
    def n_experiments(self) -> int:
        return int(self.offsets.size - 1)

    @property
    def n_cols(self) -> int:
        return int(self.values.shape[1])

    def label(self, e: int) -> str:
        return f"experiment {e}" if self.batched else "the data"


def _numeric(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex values.")
    return arr.astype(np.float64, copy=False)


def _as_2d(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim == 1:
        return a.reshape(-1, 1)
    if a.ndim == 2:
        return a
    raise ValueError(f"{name} must be 1-D or 2-D (rows x columns); got {a.ndim} dimensions.")


def _rows(data: Any, offsets: Any, nan_policy: str) -> _Rows:
    """Standardise ``data`` (and ``offsets``) into rows plus per-experiment offsets."""
    if offsets is not None:
        values = _as_2d(_numeric(data, "`data`"), "`data` given with `offsets`")
        off = np.asarray(offsets)
        if off.ndim != 1 or off.size < 2 or not np.issubdtype(off.dtype, np.integer):
            raise ValueError("`offsets` must be a 1-D integer array of length E + 1 >= 2.")
        if off[0] != 0 or off[-1] != values.shape[0] or (np.diff(off) < 0).any():
            raise ValueError(
                f"`offsets` must start at 0, end at the number of rows of `data` "
                f"({values.shape[0]}) and never decrease."
            )
        off = off.astype(np.int64)
        batched = True
    elif data is None:
        values = np.zeros((0, 0))
        off = np.zeros(2, dtype=np.int64)
        batched = False
    elif isinstance(data, Ragged):
        values = _numeric(data.values, "`data`").reshape(-1, 1)
        off = data.offsets
        batched = True
    elif isinstance(data, np.ndarray) or not isinstance(data, Sequence):
        arr = _numeric(data, "`data`")
        if arr.ndim == 3:
            e, n, k = arr.shape
            values = arr.reshape(e * n, k)
            off = np.arange(e + 1, dtype=np.int64) * n
            batched = True
        else:
            if arr.ndim == 0:
                raise ValueError("`data` must be 1-D or 2-D for one experiment, or a batch.")
            values = _as_2d(arr, "`data`")
            off = np.array([0, values.shape[0]], dtype=np.int64)
            batched = False
    else:
        if len(data) == 0:
            raise ValueError("`data` holds no experiments.")
        parts = [_as_2d(_numeric(a, f"experiment {e} of `data`"), f"experiment {e} of `data`")
                 for e, a in enumerate(data)]
        k = parts[0].shape[1]
        for e, p in enumerate(parts):
            if p.shape[1] != k:
                raise ValueError(
                    f"experiment {e} of `data` has {p.shape[1]} column(s), experiment 0 has {k}."
                )
        values = np.concatenate(parts, axis=0)
        off = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([p.shape[0] for p in parts], out=off[1:])
        batched = True
    values = np.ascontiguousarray(values, dtype=np.float64)
    n_exp = off.size - 1
    nan_exps = np.zeros(n_exp, dtype=bool)
    if values.size and np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values).any(axis=1))[0])
        e = int(np.searchsorted(off, row, side="right") - 1)
        raise ValueError(f"`data` holds an infinite value in {_label(batched, e)}.")
    if values.size and np.isnan(values).any():
        bad_rows = np.isnan(values).any(axis=1)
        if nan_policy == "raise":
            e = int(np.searchsorted(off, int(np.argmax(bad_rows)), side="right") - 1)
            raise ValueError(f"The input contains nan values: {_label(batched, e)}.")
        if nan_policy == "propagate":
            counts = np.diff(np.concatenate(([0], np.cumsum(bad_rows))) [off])
            nan_exps = counts > 0
        else:  # omit: drop rows with any NaN
            keep = ~bad_rows
            kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
            values = np.ascontiguousarray(values[keep])
            off = kept_before[off]
    return _Rows(values, off, batched, nan_exps)


def _label(batched: bool, e: int) -> str:
    return f"experiment {e}" if batched else "the data"
