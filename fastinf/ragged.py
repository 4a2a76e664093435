"""Many experiments of different sizes in two flat arrays.

Also the one helper that turns any ``data`` argument into that layout.

A :class:`Ragged` sample holds ``E`` experiments: experiment ``e`` is
``values[offsets[e]:offsets[e + 1]]``. It is the layout of Arrow's list
arrays and of ``scipy.sparse`` CSR rows, so an archive read from Parquet
becomes a :class:`Ragged` without copying values.

Every resampling function in fastinf accepts, for each sample in ``data``,
either an N-D array (experiments along the axes other than ``axis``, as in
scipy) or a :class:`Ragged` (one experiment per row). Internally both become
the same thing, built by :func:`standardize`: all samples' values concatenated
into one C-contiguous float64 vector, with an ``(n_samples, E + 1)`` table of
offsets into it. The kernels only ever see that.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Ragged", "SmallSampleWarning", "Experiments", "check_nan_policy", "standardize"]


class SmallSampleWarning(RuntimeWarning):
    """An experiment had too few observations (after omitting NaN) for the statistic."""


@dataclass(frozen=True, eq=False)
class Ragged:
    """Experiments of different sizes: ``values`` plus ``offsets``.

    Parameters
    ----------
    values : array_like, 1-D
        Observations of all experiments, one after another.
    offsets : array_like of int, 1-D, length ``E + 1``
        Experiment ``e`` is ``values[offsets[e]:offsets[e + 1]]``; ``offsets``
        starts at 0, ends at ``len(values)`` and never decreases.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf import Ragged
    >>> r = Ragged.from_arrays([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])])
    >>> r.n_experiments, r.sizes.tolist()
    (2, [3, 2])
    >>> r[1].tolist()
    [4.0, 5.0]
    """

    values: np.ndarray
    offsets: np.ndarray

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        offsets = np.asarray(self.offsets)
        if values.ndim != 1:
            raise ValueError(f"`values` must be 1-D, got shape {values.shape}.")
        if offsets.ndim != 1 or offsets.size < 1:
            raise ValueError("`offsets` must be a 1-D array of length E + 1.")
        if not np.issubdtype(offsets.dtype, np.integer):
            raise TypeError(f"`offsets` must be integers, got dtype {offsets.dtype}.")
        if offsets[0] != 0 or offsets[-1] != values.size:
            raise ValueError(
                f"`offsets` must start at 0 and end at len(values) = {values.size}; "
                f"got {offsets[0]} and {offsets[-1]}."
            )
        decreasing = np.flatnonzero(np.diff(offsets) < 0)
        if decreasing.size:
            raise ValueError(
                f"`offsets` must not decrease; experiment {decreasing[0]} has "
                "a negative size."
            )
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "offsets", offsets.astype(np.int64, copy=False))

    @classmethod
    def from_arrays(cls, arrays: Sequence[np.ndarray]) -> Ragged:
        """Build from a sequence of 1-D arrays, one per experiment."""
        parts = [np.asarray(a).ravel() for a in arrays]
        sizes = np.array([p.size for p in parts], dtype=np.int64)
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        values = np.concatenate(parts) if parts else np.empty(0)
        return cls(values, offsets)

    @property
    def n_experiments(self) -> int:
        """The number of experiments ``E``."""
        return int(self.offsets.size - 1)

    @property
    def sizes(self) -> np.ndarray:
        """Observations per experiment."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return self.n_experiments

    def __getitem__(self, e: int) -> np.ndarray:
        return self.values[self.offsets[e] : self.offsets[e + 1]]

    def to_list(self) -> list[np.ndarray]:
        """The experiments as a list of 1-D arrays (views)."""
        return [self[e] for e in range(self.n_experiments)]


@dataclass(frozen=True)
class Experiments:
    """``data`` standardised for the kernels.

    Attributes
    ----------
    values : ndarray of float64
        All samples' values, C-contiguous.
    offsets : ndarray of int64, shape ``(n_samples, E + 1)``
        Sample ``j`` of experiment ``e`` is
        ``values[offsets[j, e]:offsets[j, e + 1]]``.
    shape : tuple of int or None
        The batch shape to give results (``()`` for one experiment), or
        ``None`` for ragged input (results are 1-D of length ``E``).
    nan_experiments : ndarray of bool, shape ``(E,)``
        Experiments whose result must be NaN (``nan_policy='propagate'`` with
        NaN present, or too few observations left after ``'omit'``).
    """

    values: np.ndarray
    offsets: np.ndarray
    shape: tuple[int, ...] | None
    nan_experiments: np.ndarray

    @property
    def n_samples(self) -> int:
        """The number of samples."""
        return int(self.offsets.shape[0])

    @property
    def n_experiments(self) -> int:
        """The number of experiments ``E``."""
        return int(self.offsets.shape[1] - 1)

    def sizes(self) -> np.ndarray:
        """``(n_samples, E)`` observations per sample and experiment."""
        return np.diff(self.offsets, axis=1)

    def sample(self, j: int, e: int) -> np.ndarray:
        """Sample ``j`` of experiment ``e``."""
        return self.values[self.offsets[j, e] : self.offsets[j, e + 1]]

    def reshape(self, result: np.ndarray) -> np.ndarray:
        """Give a per-experiment result (axis 0) the batch shape of the input."""
        if self.shape is None:
            return result
        out = result.reshape(self.shape + result.shape[1:])
        return out[()] if out.ndim == 0 else out


def _experiment_label(e: int, shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return f"experiment {e}"
    if shape == ():
        return "the data"
    return f"experiment {tuple(int(i) for i in np.unravel_index(e, shape))}"


def _count(n: int) -> str:
    return {1: "one", 2: "two", 3: "three"}.get(n, str(n))


def _as_float(sample: object, j: int) -> np.ndarray:
    arr = np.asarray(sample)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(
            f"sample {j} of `data` must be numeric, got dtype {arr.dtype}."
        )
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"sample {j} of `data` must be real, got complex values.")
    return arr.astype(np.float64, copy=False)


def check_nan_policy(nan_policy: object) -> str:
    """`nan_policy` as a str; a ValueError unless it is one of scipy's three."""
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError("`nan_policy` must be one of 'propagate', 'omit', 'raise'.")
    return str(nan_policy)


def standardize(
    data: Sequence[object],
    *,
    axis: int,
    paired: bool,
    nan_policy: str,
    min_size: int = 2,
    paired_reason: str = "When `paired` is True",
) -> Experiments:
    """Validate ``data`` and lay it out for the kernels.

    Parameters
    ----------
    data : sequence of array_like or Ragged
        The samples, as the public functions take them.
    axis : int
        Observation axis of N-D samples (ignored for :class:`Ragged`).
    paired : bool
        Whether observation ``i`` of every sample belongs to one unit: all
        samples must then have equal sizes in each experiment, and
        ``nan_policy='omit'`` drops a unit from all samples at once.
    nan_policy : {'propagate', 'omit', 'raise'}
        What NaN does, as in scipy.
    min_size : int
        Fewest observations a sample may have.
    paired_reason : str
        Why samples must be paired, to open the error message.

    Returns
    -------
    Experiments
    """
    check_nan_policy(nan_policy)
    if isinstance(data, (np.ndarray, Ragged)) or not isinstance(data, Sequence):
        raise ValueError("`data` must be a sequence of samples.")
    if len(data) == 0:
        raise ValueError("`data` must contain at least one sample.")
    n_ragged = sum(isinstance(s, Ragged) for s in data)
    if n_ragged not in (0, len(data)):
        raise TypeError(
            "`data` mixes Ragged and array samples: give every sample as a "
            "Ragged, or none."
        )

    shape: tuple[int, ...] | None
    if n_ragged:
        samples = [s for s in data if isinstance(s, Ragged)]
        n_exp = samples[0].n_experiments
        for j, s in enumerate(samples):
            if s.n_experiments != n_exp:
                raise ValueError(
                    f"sample {j} of `data` has {s.n_experiments} experiments, "
                    f"sample 0 has {n_exp}."
                )
        values_list = [_as_float(s.values, j) for j, s in enumerate(samples)]
        offsets_list = [s.offsets for s in samples]
        shape = None
    else:
        if int(axis) != axis:
            raise ValueError("`axis` must be an integer.")
        axis = int(axis)
        arrays = [_as_float(s, j) for j, s in enumerate(data)]
        # As scipy: samples of fewer dimensions get leading size-1 axes
        # before `axis` is applied.
        ndim = max(a.ndim for a in arrays)
        arrays = [a.reshape((1,) * (ndim - a.ndim) + a.shape) for a in arrays]
        for j, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"sample {j} of `data` must have at least one dimension.")
            if not -a.ndim <= axis < a.ndim:
                raise ValueError(
                    f"`axis` {axis} is out of bounds for sample {j} with "
                    f"{a.ndim} dimensions."
                )
        moved = [np.moveaxis(a, axis, -1) for a in arrays]
        try:
            batch = np.broadcast_shapes(*(m.shape[:-1] for m in moved))
        except ValueError:
            shapes = [a.shape for a in arrays]
            raise ValueError(
                f"the samples of `data` must broadcast along every axis but "
                f"`axis`; got shapes {shapes}."
            ) from None
        shape = tuple(batch)
        n_exp = int(np.prod(shape, dtype=np.int64))
        values_list, offsets_list = [], []
        for m in moved:
            n = m.shape[-1]
            block = np.broadcast_to(m, shape + (n,)).reshape(n_exp, n)
            values_list.append(np.ascontiguousarray(block).ravel())
            offsets_list.append(np.arange(n_exp + 1, dtype=np.int64) * n)

    n_samples = len(values_list)
    sizes = np.stack([np.diff(o) for o in offsets_list])
    if paired:
        bad = np.flatnonzero((sizes != sizes[0]).any(axis=0))
        if bad.size:
            e = int(bad[0])
            raise ValueError(
                f"{paired_reason}, all samples must have the same length "
                f"along `axis`; in {_experiment_label(e, shape)} the sizes are "
                f"{sizes[:, e].tolist()}."
            )
    small = np.argwhere(sizes < min_size)
    if small.size:
        j, e = (int(v) for v in small[0])
        raise ValueError(
            f"each sample in `data` must contain {_count(min_size)} or more observations "
            f"along `axis`; sample {j} of {_experiment_label(e, shape)} has "
            f"{sizes[j, e]}."
        )

    nan_experiments = np.zeros(n_exp, dtype=bool)
    isnan = [np.isnan(v) for v in values_list]
    if any(m.any() for m in isnan):
        if nan_policy == "raise":
            for j, m in enumerate(isnan):
                if m.any():
                    pos = int(np.flatnonzero(m)[0])
                    e = int(np.searchsorted(offsets_list[j], pos, side="right") - 1)
                    raise ValueError(
                        f"The input contains nan values: sample {j} of "
                        f"{_experiment_label(e, shape)}."
                    )
        if nan_policy == "propagate":
            for j, m in enumerate(isnan):
                counts = np.add.reduceat(m, offsets_list[j][:-1]) if m.size else m
                nan_experiments |= (counts > 0) & (sizes[j] > 0)
        else:  # omit
            values_list, offsets_list = _omit_nan(
                values_list, offsets_list, isnan, paired
            )
            sizes = np.stack([np.diff(o) for o in offsets_list])
            too_small = (sizes < min_size).any(axis=0)
            if too_small.any():
                warnings.warn(
                    f"{int(too_small.sum())} experiment(s) have fewer than "
                    f"{min_size} observations in a sample after omitting NaN "
                    f"(first: {_experiment_label(int(np.argmax(too_small)), shape)}); "
                    "their results are NaN.",
                    SmallSampleWarning,
                    stacklevel=3,
                )
                nan_experiments |= too_small

    values = np.ascontiguousarray(np.concatenate(values_list), dtype=np.float64)
    offsets = np.empty((n_samples, n_exp + 1), dtype=np.int64)
    start = 0
    for j, o in enumerate(offsets_list):
        offsets[j] = o + start
        start += values_list[j].size
    return Experiments(values, offsets, shape, nan_experiments)


def _omit_nan(
    values_list: list[np.ndarray],
    offsets_list: list[np.ndarray],
    isnan: list[np.ndarray],
    paired: bool,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if paired:
        # A unit with NaN in any sample leaves every sample.
        drop = np.logical_or.reduce(isnan)
        isnan = [drop] * len(values_list)
    new_values, new_offsets = [], []
    for v, o, m in zip(values_list, offsets_list, isnan, strict=True):
        keep = ~m
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        new_values.append(v[keep])
        new_offsets.append(kept_before[o])
    return new_values, new_offsets
