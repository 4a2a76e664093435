"""Statistical power and sample size: :mod:`statsmodels.stats.power`, vectorised.

The power of a two-sample test is the probability that it rejects the null
hypothesis when the standardised effect is ``effect_size``. It links four
quantities (effect size, sample size, significance level and power) and an
experimenter fixes three of them to learn the fourth.

:class:`NormalIndPower` (z-test) and :class:`TTestIndPower` (pooled-variance
t-test) are drop-ins for the statsmodels classes of the same names: same
methods, argument names, defaults and formulas, and the same results for
scalars. Here every argument may also be an array; arguments broadcast as in
NumPy, and ``solve_power`` solves every element of the grid at once with a
vectorised bracketed root finder (a bracket from the normal approximation,
then Chandrupatla's method on all elements at once, to 1e-14 in power), where statsmodels runs one scalar ``brentq`` per call.
An element whose target cannot be reached raises an error that names it.

The cost lies in the distribution functions (``scipy.special.nctdtr`` for the
t-test), which are NumPy ufuncs already, so nothing here is compiled.

For experimenters, :func:`sample_size_proportions`, :func:`mde_proportions`,
:func:`sample_size_means` and :func:`mde_means` answer "how many users per arm"
and "what is the smallest detectable effect" directly in the units of the
experiment (rates, means, absolute or relative lifts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

__all__ = [
    "NormalIndPower",
    "SampleSize",
    "TTestIndPower",
    "mde_means",
    "mde_proportions",
    "proportion_effectsize",
    "sample_size_means",
    "sample_size_proportions",
    "tt_ind_solve_power",
    "zt_ind_solve_power",
]

_ALTERNATIVES = ("two-sided", "larger", "smaller")
_ALTERNATIVES_TEXT = "{'two-sided', 'larger', 'smaller'}"
_KEYS = ("effect_size", "nobs1", "alpha", "power", "ratio")
# Bounds of the search, in the transformed variable of each unknown (see
# ``_Problem``): exp(700) and exp(-700) are within float64's range.
_LOG_MAX = 700.0
_EFFECT_MAX = 1e4  # |effect_size| searched for one-sided alternatives
_ALPHA_LOGIT_MAX = 36.0  # alpha = 1 - 2.3e-16
# statsmodels' lower search bounds (``Power.start_bqexp``): nobs1 >= 2 for the
# t-test (below, with df -> 0, ``stdtrit``/``nctdtr`` lose all accuracy) and
# ratio >= 1e-8.
_T_NOBS1_LOW = 2.0
_RATIO_LOW = 1e-8
_MAX_EXPAND = 80
# Stop when the power is within 1e-14 of the target (statsmodels stops at
# xtol=1e-5 in the unknown) or the bracket is at double precision.
_FATOL = 1e-14


# --------------------------------------------------------------------------
# validation


def _where(arr: np.ndarray, bad: np.ndarray) -> str:
    """Text naming the first bad element of ``arr`` (or its value for a scalar)."""
    if arr.ndim == 0:
        return f"got {arr.item()!r}"
    idx = np.unravel_index(int(np.argmax(bad)), arr.shape)
    return f"element {tuple(int(i) for i in idx)} is {arr[idx].item()!r}"


def _require(name: str, arr: np.ndarray, ok: np.ndarray, what: str) -> None:
    """Raise ``ValueError`` naming ``name`` where ``ok`` is False (NaN passes)."""
    bad = ~ok & ~np.isnan(arr)
    if bad.any():
        raise ValueError(f"`{name}` must be {what}; {_where(arr, bad)}.")


def _as_float(name: str, value: Any) -> np.ndarray:
    """``value`` as a float64 array (no copy for float64 input)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be a real number or an array of them.") from exc
    return arr


def _alternative_iv(alternative: Any) -> str:
    if not isinstance(alternative, str) or alternative not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {_ALTERNATIVES_TEXT}, got {alternative!r}.")
    return alternative


def _probability(name: str, value: Any) -> np.ndarray:
    arr = _as_float(name, value)
    _require(name, arr, (arr > 0) & (arr < 1), "in the open interval (0, 1)")
    return arr


def _finite(name: str, value: Any) -> np.ndarray:
    arr = _as_float(name, value)
    _require(name, arr, np.isfinite(arr), "finite")
    return arr


def _power_iv(
    effect_size: Any, nobs1: Any, alpha: Any, ratio: Any, alternative: Any, t_test: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Validate the arguments of ``power``; return them as float64 arrays."""
    alternative = _alternative_iv(alternative)
    d = _finite("effect_size", effect_size)
    n1 = _as_float("nobs1", nobs1)
    _require("nobs1", n1, n1 > 0, "positive")
    a = _probability("alpha", alpha)
    r = _as_float("ratio", ratio)
    if t_test:
        _require("ratio", r, (r > 0) & np.isfinite(r), "positive and finite")
    else:
        _require("ratio", r, (r >= 0) & np.isfinite(r), "non-negative and finite (0: one sample)")
    return d, n1, a, r, alternative


def _is_scalar(*values: Any) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def _check_df(df: np.ndarray) -> None:
    bad = ~(df > 0) & ~np.isnan(df)
    if bad.any():
        where = _where(df, bad).replace(" is ", " gives df = ").replace("got ", "df = ")
        raise ValueError(
            "`nobs1` is too small: the degrees of freedom nobs1 * (1 + ratio) - 2 "
            f"must be positive; {where}."
        )


# --------------------------------------------------------------------------
# power functions: statsmodels' formulas, operation for operation


def _alpha_tail(alpha: np.ndarray, alternative: str) -> np.ndarray:
    return alpha / 2.0 if alternative == "two-sided" else alpha


def _normal_nobs(nobs1: np.ndarray, ratio: np.ndarray, ddof: float) -> np.ndarray:
    """Effective sample size ``n1 n2 / (n1 + n2)`` (``nobs1 - ddof`` at ratio 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        nobs2 = nobs1 * ratio
        two = 1.0 / (1.0 / (nobs1 - ddof) + 1.0 / (nobs2 - ddof))
    return np.where(ratio > 0, two, nobs1 - ddof)


def _normal_power(
    d: np.ndarray, nobs: np.ndarray, alpha: np.ndarray, alternative: str
) -> np.ndarray:
    """``statsmodels.stats.power.normal_power`` (sigma = 1) on arrays."""
    crit = special.ndtri(_alpha_tail(alpha, alternative))  # norm.ppf; isf = -ppf
    with np.errstate(invalid="ignore"):
        shift = d * np.sqrt(nobs) / 1.0
    out = np.zeros(np.broadcast(crit, shift).shape)
    if alternative != "smaller":
        out = out + special.ndtr(-(-crit - shift))  # norm.sf(isf(a) - shift)
    if alternative != "larger":
        out = out + special.ndtr(crit - shift)  # norm.cdf(ppf(a) - shift)
    return out


def _nct_cdf(df: np.ndarray, nc: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``scipy.special.nctdtr``, with its far-tail NaN replaced by 0 or 1.

    ``nctdtr`` returns NaN (for valid arguments) when a tail probability is
    tiny; statsmodels then returns a NaN power. On samples over df in
    [1, 6e4], |nc| <= 50 and alpha down to 1e-10, the tail was below 2e-11
    wherever this happened (checked by quadrature), so 0 (left of the
    noncentrality) or 1 (right of it) is that close.
    """
    v = special.nctdtr(df, nc, x)
    bad = np.isnan(v)
    if bad.any():
        df, nc, x = np.broadcast_arrays(df, nc, x)
        fill = np.where(x[bad] < nc[bad], 0.0, 1.0)
        fill[np.isnan(df[bad] + nc[bad] + x[bad])] = np.nan
        v = np.array(v, copy=True)
        v[bad] = fill
    return v


def _t_power(
    d: np.ndarray, nobs: np.ndarray, alpha: np.ndarray, df: np.ndarray, alternative: str
) -> np.ndarray:
    """``statsmodels.stats.power.ttest_power`` on arrays (see :func:`_nct_cdf`)."""
    crit = special.stdtrit(df, _alpha_tail(alpha, alternative))  # t.ppf; isf = -ppf
    with np.errstate(invalid="ignore"):
        nc = d * np.sqrt(nobs)
    if alternative == "two-sided":
        return _t_power_two_sided(df, nc, crit)
    if alternative == "larger":
        return 1 - _nct_cdf(df, nc, -crit)
    return _nct_cdf(df, nc, crit)


# Beyond this noncentrality a two-sided test's far tail, at most
# Phi(-|nc|) < 1e-20, is below double precision of the power (>= alpha).
_FAR_TAIL_NC = 9.3


def _t_power_two_sided(df: np.ndarray, nc: np.ndarray, crit: np.ndarray) -> np.ndarray:
    """Both tails, skipping the far one where it cannot change the float result.

    ``P(T' < -c) <= Phi(-nc)`` for ``c, nc > 0`` (the event needs ``Z + nc < 0``),
    and ``P(T' > c) <= Phi(nc)`` for ``nc < 0``.
    """
    df, nc, crit = np.broadcast_arrays(df, nc, crit)
    upper = np.zeros(nc.shape)
    lower = np.zeros(nc.shape)
    need_up = ~(nc < -_FAR_TAIL_NC)
    need_lo = ~(nc > _FAR_TAIL_NC)
    upper[need_up] = 1 - _nct_cdf(df[need_up], nc[need_up], -crit[need_up])
    lower[need_lo] = _nct_cdf(df[need_lo], nc[need_lo], crit[need_lo])
    out = 0 + upper
    return out + lower


def _t_nobs_df(
    nobs1: np.ndarray, ratio: np.ndarray, df: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    nobs2 = nobs1 * ratio
    if df is None:
        df = nobs1 - 1 + nobs2 - 1
    return 1.0 / (1.0 / nobs1 + 1.0 / nobs2), df


# --------------------------------------------------------------------------
# the vectorised solver


class _Unreachable(ValueError):
    pass


@dataclass(frozen=True)
class _Problem:
    """One unknown of the power equation, in a variable where it is unbounded.

    ``value(x, lo)`` maps the search variable ``x`` to the unknown, whose
    domain's lower end is ``lo`` (an array): ``lo + exp(x)`` for ``nobs1``
    and ``ratio``, ``exp(x)`` for a two-sided ``effect_size`` (statsmodels
    returns the positive root), ``x`` for a one-sided one, the logistic
    function for ``alpha``. ``inverse`` maps back (for the starting guess).
    """

    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    inverse: Callable[[np.ndarray, np.ndarray], np.ndarray]
    xmin: float
    xmax: float
    step: float


def _log_value(x: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return lo + np.exp(x)


def _log_inverse(v: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(v - lo, 1e-300))


def _identity(x: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return x


def _logit(v: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return special.logit(np.clip(v, 1e-300, 1 - 1e-16))


def _expit(x: np.ndarray, lo: np.ndarray) -> np.ndarray:
    return special.expit(x)


# The first steps are small because the starting guesses are close (within
# a few per cent for nobs1 and effect_size); the steps double from there.
_PROBLEMS = {
    "alpha": _Problem(_expit, _logit, -_LOG_MAX, _ALPHA_LOGIT_MAX, 0.1),
    "effect_two": _Problem(_log_value, _log_inverse, -_LOG_MAX, np.log(_EFFECT_MAX), 0.02),
    "effect_one": _Problem(_identity, _identity, -_EFFECT_MAX, _EFFECT_MAX, 0.005),
    "nobs1": _Problem(_log_value, _log_inverse, -_LOG_MAX, _LOG_MAX, 0.02),
    "ratio": _Problem(_log_value, _log_inverse, -_LOG_MAX, _LOG_MAX, 0.1),
}


def _bracket(
    g: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x0: np.ndarray,
    step: float,
    xmin: float,
    xmax: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bracket the root of each increasing ``g(., i)``, expanding from ``x0``.

    ``g(x, idx)`` evaluates the elements ``idx`` at ``x``. The step away
    from ``x0`` doubles until the sign changes or ``xmin``/``xmax`` is
    passed. Returns ``lo``, ``hi``, ``g(lo) <= 0``, ``g(hi) >= 0`` and a mask
    of the elements with no sign change in ``[xmin, xmax]`` (or NaN).
    """
    all_idx = np.arange(x0.size)
    g0 = g(x0, all_idx)
    lo, hi, glo, ghi = x0.copy(), x0.copy(), g0.copy(), g0.copy()
    failed = np.isnan(g0)
    for upward in (True, False):
        todo = all_idx[(g0 < 0) if upward else (g0 > 0)]
        width = step
        edge = xmax if upward else xmin
        for _ in range(_MAX_EXPAND):
            if todo.size == 0:
                break
            start = x0[todo]
            cand = np.minimum(start + width, edge) if upward else np.maximum(start - width, edge)
            gc = g(cand, todo)
            done = (gc >= 0) if upward else (gc <= 0)
            near, far = (lo, hi) if upward else (hi, lo)
            gnear, gfar = (glo, ghi) if upward else (ghi, glo)
            far[todo[done]], gfar[todo[done]] = cand[done], gc[done]
            near[todo[~done]], gnear[todo[~done]] = cand[~done], gc[~done]
            stuck = ~done & ((cand == edge) | np.isnan(gc))
            failed[todo[stuck]] = True
            todo = todo[~(done | stuck)]
            width *= 2.0
        failed[todo] = True
    return lo, hi, glo, ghi, failed


def _chandrupatla(
    g: Callable[[np.ndarray, np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    fatol: float,
    maxiter: int = 200,
) -> np.ndarray:
    """Roots of ``g(., i)`` in the brackets ``[a, b]`` (``fa * fb <= 0``), all at once.

    Chandrupatla's method [1]_: inverse quadratic interpolation where the
    last three points make it safe, bisection otherwise, so it converges
    wherever bisection does. The first step is a secant step (the brackets
    are tight). An element stops when ``|g| <= fatol`` or its bracket is
    as narrow as double precision allows; only the running elements are
    evaluated.

    References
    ----------
    .. [1] T. R. Chandrupatla, "A new hybrid quadratic/bisection algorithm
       for finding the zero of a nonlinear function without using
       derivatives", *Advances in Engineering Software* 28 (1997) 145-149.
    """
    out = np.where(np.abs(fa) <= np.abs(fb), a, b)
    run = np.flatnonzero(np.minimum(np.abs(fa), np.abs(fb)) > fatol)
    a, b, fa, fb = a[run], b[run], fa[run], fb[run]
    c, fc = b.copy(), fb.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(fa / (fa - fb), 0.1, 0.9)  # regula falsi
    eps = np.finfo(np.float64).eps
    for _ in range(maxiter):
        if run.size == 0:
            break
        xt = a + t * (b - a)
        ft = g(xt, run)
        same = np.sign(ft) == np.sign(fa)
        # (a, b) stays a bracket with a the newest point; c the dropped one.
        c = np.where(same, a, b)
        fc = np.where(same, fa, fb)
        b = np.where(same, b, a)
        fb = np.where(same, fb, fa)
        a, fa = xt, ft
        best_a = np.abs(fa) <= np.abs(fb)
        xm = np.where(best_a, a, b)
        fm = np.where(best_a, fa, fb)
        tol = 4 * eps * np.abs(xm) + 1e-300
        with np.errstate(divide="ignore", invalid="ignore"):
            tl = tol / np.abs(b - a)
            stop = (np.abs(fm) <= fatol) | (tl > 0.5) | np.isnan(fm)
            out[run[stop]] = xm[stop]
            keep = ~stop
            run, a, b, c, fa, fb, fc, tl = (
                v[keep] for v in (run, a, b, c, fa, fb, fc, tl)
            )
            xi = (a - b) / (c - b)
            phi = (fa - fb) / (fc - fb)
            iqi = (phi**2 < xi) & ((1 - phi) ** 2 < 1 - xi)
            t_iqi = fa / (fb - fa) * fc / (fb - fc) + (c - a) / (b - a) * fa / (fc - fa) * fb / (
                fc - fb
            )
        t = np.clip(np.where(iqi, t_iqi, 0.5), tl, 1 - tl)
    out[run] = np.where(np.abs(fa) <= np.abs(fb), a, b)  # pragma: no cover - maxiter
    return out


class _IndPower:
    """Shared ``solve_power`` of the two classes."""

    _t_test = False

    def _power(
        self, d: np.ndarray, n1: np.ndarray, alpha: np.ndarray, ratio: np.ndarray, alt: str
    ) -> np.ndarray:
        raise NotImplementedError

    def _nobs_low(self, ratio: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _ratio_low(self, nobs1: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _effective_nobs(self, n1: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def power(self, *args: Any, **kwargs: Any) -> Any:
        """Power of the test (see the subclasses)."""
        raise NotImplementedError

    def _check_known(self, key: str, a: dict[str, np.ndarray]) -> None:
        """Check the cross-argument domain (degrees of freedom, ddof) of the known values."""

    def solve_power(
        self,
        effect_size: Any = None,
        nobs1: Any = None,
        alpha: Any = None,
        power: Any = None,
        ratio: Any = 1.0,
        alternative: str = "two-sided",
    ) -> Any:
        """Solve the power equation for the one argument that is None."""
        given = {
            "effect_size": effect_size,
            "nobs1": nobs1,
            "alpha": alpha,
            "power": power,
            "ratio": ratio,
        }
        missing = [k for k, v in given.items() if v is None]
        if len(missing) != 1:
            raise ValueError(
                "need exactly one keyword that is None: one of `effect_size`, `nobs1`, "
                f"`alpha`, `power`, `ratio`; got {len(missing)} ({', '.join(missing) or 'none'})."
            )
        key = missing[0]
        scalar = _is_scalar(*(v for v in given.values() if v is not None))
        if key == "power":
            return self.power(effect_size, nobs1, alpha, ratio=ratio, alternative=alternative)
        alternative = _alternative_iv(alternative)
        arrays: dict[str, np.ndarray] = {}
        arrays["effect_size"] = _finite("effect_size", 1.0 if effect_size is None else effect_size)
        nobs = _as_float("nobs1", 10.0 if nobs1 is None else nobs1)
        _require("nobs1", nobs, nobs > 0, "positive")
        arrays["nobs1"] = nobs
        arrays["alpha"] = _probability("alpha", 0.05 if alpha is None else alpha)
        arrays["power"] = _probability("power", power)
        r = _as_float("ratio", 1.0 if ratio is None else ratio)
        if self._t_test or key == "ratio":
            _require("ratio", r, (r > 0) & np.isfinite(r), "positive and finite")
        else:
            _require("ratio", r, (r >= 0) & np.isfinite(r), "non-negative and finite (0: one sample)")
        arrays["ratio"] = r
        self._check_known(key, arrays)
        shape = np.broadcast_shapes(*(arrays[k].shape for k in _KEYS if k != key))
        flat = {k: np.broadcast_to(arrays[k], shape).ravel() for k in _KEYS if k != key}
        out = self._solve(key, flat, alternative, shape)
        out = out.reshape(shape)
        if scalar:
            return float(out)
        return out

    def _solve(
        self, key: str, a: dict[str, np.ndarray], alt: str, shape: tuple[int, ...]
    ) -> np.ndarray:
        size = a["power"].size
        out = np.full(size, np.nan)
        ok = ~np.isnan(np.column_stack([a[k] for k in a])).any(axis=1) if size else np.ones(0, bool)
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            return out
        p = {k: v[idx] for k, v in a.items()}
        d = p.get("effect_size")
        target = p["power"]
        # Direction: the power increases with alpha, and with nobs1 and ratio
        # unless a one-sided alternative points away from the effect.
        if key in ("nobs1", "ratio"):
            assert d is not None
            zero = d == 0
            if zero.any():
                self._raise_unreachable(
                    key, idx[np.argmax(zero)], a, alt, shape,
                    "Cannot detect an effect-size of 0. Try changing your effect-size.",
                )
            sign = np.ones(idx.size)
            if alt == "larger":
                sign = np.sign(d)
            elif alt == "smaller":
                sign = -np.sign(d)
        elif key == "effect_size":
            sign = np.full(idx.size, -1.0 if alt == "smaller" else 1.0)
        else:
            sign = np.ones(idx.size)

        # Starting guess from the normal approximation that ignores the far
        # tail: d * sqrt(n_eff) = z_(1 - alpha') + z_power.
        if key == "alpha":
            assert d is not None
            delta = np.abs(d) if alt == "two-sided" else (d if alt == "larger" else -d)
            neff = self._effective_nobs(p["nobs1"], p["ratio"])
            guess = special.ndtr(special.ndtri(target) - delta * np.sqrt(neff))
            if alt == "two-sided":
                guess = 2 * guess
            low = np.zeros(idx.size)
            problem = _PROBLEMS["alpha"]
        else:
            z = special.ndtri(target) - special.ndtri(_alpha_tail(p["alpha"], alt))
            if key == "effect_size":
                neff = self._effective_nobs(p["nobs1"], p["ratio"])
                with np.errstate(divide="ignore"):
                    guess = np.abs(z) / np.sqrt(neff)
                if alt == "two-sided":
                    low = np.zeros(idx.size)
                    problem = _PROBLEMS["effect_two"]
                else:
                    guess = guess * np.sign(z) * (1 if alt == "larger" else -1)
                    low = np.zeros(idx.size)
                    problem = _PROBLEMS["effect_one"]
            elif key == "nobs1":
                assert d is not None
                neff = (z / d) ** 2
                low = self._nobs_low(p["ratio"])
                r = p["ratio"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    guess = np.where(r > 0, neff * (1 + r) / r, neff) + low
                if self._t_test:
                    # Guenther's correction for the t-test: about z_(1-alpha')^2 / 4
                    # more per group, and statsmodels' nobs1 >= 2 instead of > 0.
                    guess = guess - low + special.ndtri(_alpha_tail(p["alpha"], alt)) ** 2 / 4
                problem = _PROBLEMS["nobs1"]
            else:  # ratio
                assert d is not None
                neff = (z / d) ** 2
                low = self._ratio_low(p["nobs1"])
                with np.errstate(divide="ignore", invalid="ignore"):
                    guess = np.where(p["nobs1"] > neff, neff / (p["nobs1"] - neff), 1e6)
                problem = _PROBLEMS["ratio"]
        x0 = np.clip(problem.inverse(guess, low), problem.xmin, problem.xmax)
        x0 = np.where(np.isfinite(x0), x0, 0.0)

        def call(x: np.ndarray, sub: np.ndarray | slice) -> np.ndarray:
            args = {k: v[sub] for k, v in p.items()}
            args[key] = problem.value(x, low[sub])
            with np.errstate(all="ignore"):
                pw = self._power(args["effect_size"], args["nobs1"], args["alpha"],
                                 args["ratio"], alt)
            return sign[sub] * (pw - args["power"])

        lo, hi, glo, ghi, failed = _bracket(call, x0, problem.step, problem.xmin, problem.xmax)
        if failed.any():
            self._raise_unreachable(key, idx[np.argmax(failed)], a, alt, shape, None)
        x = _chandrupatla(call, lo, hi, glo, ghi, _FATOL)
        out[idx] = problem.value(x, low)
        return out

    def _raise_unreachable(
        self,
        key: str,
        i: int,
        a: dict[str, np.ndarray],
        alt: str,
        shape: tuple[int, ...],
        reason: str | None,
    ) -> None:
        pos = tuple(int(j) for j in np.unravel_index(int(i), shape))
        where = f" at grid element {pos}" if shape else ""
        given = ", ".join(f"{k}={a[k][i].item()!r}" for k in _KEYS if k in a)
        if reason is None:
            if key == "nobs1":
                low = "2 (statsmodels' lower search bound)" if self._t_test else "0"
                reason = (
                    f"no `nobs1` above {low} reaches it (a one-sided alternative needs an "
                    "effect size of matching sign: positive for 'larger', negative for "
                    "'smaller'; and a two-sided test has power above alpha for every nobs1)."
                )
            elif key == "ratio":
                reason = (
                    "no `ratio` reaches it: the power is bounded by the power at an "
                    "infinite second sample, and a one-sided alternative needs an effect "
                    "size of matching sign."
                )
            elif key == "effect_size":
                reason = (
                    f"no `effect_size` with |effect_size| <= {_EFFECT_MAX:g} reaches it "
                    "(a two-sided test has power above alpha for every effect size)."
                )
            else:
                reason = "no `alpha` in (0, 1) reaches it."
        raise _Unreachable(
            f"Cannot solve for `{key}`{where} ({given}, alternative={alt!r}): {reason}"
        )


# --------------------------------------------------------------------------
# public classes


class NormalIndPower(_IndPower):
    r"""Power of the z-test for two independent samples, a drop-in for statsmodels'.

    Parameters
    ----------
    ddof : int, optional
        Degrees of freedom taken from each sample size in the effective
        sample size (e.g. 3 for a correlation coefficient).

    Notes
    -----
    With :math:`n_2 = r\,n_1`, the effective sample size is
    :math:`n = 1 / (1/(n_1 - \mathrm{ddof}) + 1/(n_2 - \mathrm{ddof}))`
    (:math:`n = n_1 - \mathrm{ddof}` for ``ratio=0``, a one-sample test), the
    noncentrality is :math:`\delta = d\sqrt{n}` and, with :math:`\alpha' =
    \alpha/2` for a two-sided test,

    .. math::

        \mathrm{power} = \Phi(\delta - z_{1-\alpha'})\,[\text{larger}]
                       + \Phi(-\delta - z_{1-\alpha'})\,[\text{smaller}],

    both terms for ``'two-sided'`` (the far tail is included, as in
    statsmodels [1]_).

    References
    ----------
    .. [1] statsmodels, ``statsmodels.stats.power.NormalIndPower``.

    Examples
    --------
    >>> from fastinf.power import NormalIndPower
    >>> round(NormalIndPower().solve_power(0.2, power=0.8, alpha=0.05), 2)
    392.44
    """

    def __init__(self, ddof: float = 0) -> None:
        self.ddof = ddof

    def _effective_nobs(self, n1: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        return _normal_nobs(n1, ratio, self.ddof)

    def _check_known(self, key: str, a: dict[str, np.ndarray]) -> None:
        if key == "nobs1":
            return
        n1 = a["nobs1"]
        _require("nobs1", n1, n1 > self.ddof, f"greater than ddof = {self.ddof}")
        if self.ddof and key != "ratio":
            n2 = n1 * a["ratio"]
            ok = (a["ratio"] == 0) | (n2 > self.ddof)
            _require("ratio", a["ratio"] * np.ones_like(n2), ok,
                     f"0 or such that nobs1 * ratio > ddof = {self.ddof}")

    def _power(
        self, d: np.ndarray, n1: np.ndarray, alpha: np.ndarray, ratio: np.ndarray, alt: str
    ) -> np.ndarray:
        return _normal_power(d, _normal_nobs(n1, ratio, self.ddof), alpha, alt)

    def _nobs_low(self, ratio: np.ndarray) -> np.ndarray:
        # n1 - ddof > 0 and, for ratio > 0, n1 * ratio - ddof > 0.
        with np.errstate(divide="ignore"):
            return np.where(ratio > 0, self.ddof * np.maximum(1.0, 1.0 / ratio), self.ddof)

    def _ratio_low(self, nobs1: np.ndarray) -> np.ndarray:
        return np.maximum(_RATIO_LOW, self.ddof / nobs1)

    def power(
        self,
        effect_size: Any,
        nobs1: Any,
        alpha: Any,
        ratio: Any = 1,
        alternative: str = "two-sided",
    ) -> Any:
        """Power of the two-sample z-test.

        Parameters
        ----------
        effect_size : float or array_like
            Standardised effect size, difference of means over the standard
            deviation.
        nobs1 : float or array_like
            Observations in sample 1 (``nobs2 = nobs1 * ratio``).
        alpha : float or array_like
            Significance level, in (0, 1).
        ratio : float or array_like, default: 1
            ``nobs2 / nobs1``; 0 for a one-sample test.
        alternative : {'two-sided', 'larger', 'smaller'}, optional
            The alternative hypothesis.

        Returns
        -------
        power : numpy.float64 or ndarray
            The power, with the broadcast shape of the arguments.
        """
        d, n1, a, r, alt = _power_iv(effect_size, nobs1, alpha, ratio, alternative, False)
        _require("nobs1", n1, n1 > self.ddof, f"greater than ddof = {self.ddof}")
        with np.errstate(invalid="ignore"):
            out = self._power(d, n1, a, r, alt)
        return out[()]

    def solve_power(
        self,
        effect_size: Any = None,
        nobs1: Any = None,
        alpha: Any = None,
        power: Any = None,
        ratio: Any = 1.0,
        alternative: str = "two-sided",
    ) -> Any:
        """Solve for the one argument that is None, elementwise over a grid.

        Parameters
        ----------
        effect_size, nobs1, alpha, power, ratio : float, array_like or None
            As in :meth:`power`; exactly one is None (``ratio=None`` to solve
            for the ratio). The others broadcast together.
        alternative : {'two-sided', 'larger', 'smaller'}, optional
            The alternative hypothesis.

        Returns
        -------
        value : float or ndarray
            The solution: a float for scalar arguments (as statsmodels;
            ``numpy.float64`` when solving for `power`), else an array of the
            broadcast shape. NaN where an argument is NaN.

        Raises
        ------
        ValueError
            For invalid arguments, or where no value of the unknown reaches
            the target (the message names the grid element).

        Notes
        -----
        For a two-sided test the positive effect size is returned, as in
        statsmodels. Solutions are found to full double precision (the
        power at the solution equals the target to about 1e-15), where
        statsmodels stops at ``xtol=1e-5``.
        """
        return super().solve_power(effect_size, nobs1, alpha, power, ratio, alternative)


class TTestIndPower(_IndPower):
    r"""Power of the pooled-variance t-test for two independent samples, a drop-in for statsmodels'.

    Notes
    -----
    With :math:`n_2 = r\,n_1`, degrees of freedom :math:`\nu = n_1 + n_2 - 2`,
    :math:`n = n_1 n_2 / (n_1 + n_2)`, noncentrality :math:`\delta = d\sqrt{n}`,
    :math:`\alpha' = \alpha/2` for a two-sided test and :math:`F_{\nu,\delta}`
    the noncentral t distribution function,

    .. math::

        \mathrm{power} = 1 - F_{\nu,\delta}(t_{\nu,1-\alpha'})\,[\text{larger}]
                       + F_{\nu,\delta}(-t_{\nu,1-\alpha'})\,[\text{smaller}],

    both terms for ``'two-sided'``, as in statsmodels [1]_.

    References
    ----------
    .. [1] statsmodels, ``statsmodels.stats.power.TTestIndPower``.

    Examples
    --------
    >>> from fastinf.power import TTestIndPower
    >>> round(TTestIndPower().solve_power(0.2, power=0.8, alpha=0.05), 2)
    393.41
    """

    _t_test = True

    def _effective_nobs(self, n1: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        return n1 * ratio / (1 + ratio)

    def _power(
        self, d: np.ndarray, n1: np.ndarray, alpha: np.ndarray, ratio: np.ndarray, alt: str
    ) -> np.ndarray:
        nobs, df = _t_nobs_df(n1, ratio, None)
        return _t_power(d, nobs, alpha, df, alt)

    def _nobs_low(self, ratio: np.ndarray) -> np.ndarray:
        return np.full(ratio.shape, _T_NOBS1_LOW)

    def _check_known(self, key: str, a: dict[str, np.ndarray]) -> None:
        if key not in ("nobs1", "ratio"):
            _check_df(_t_nobs_df(a["nobs1"], a["ratio"], None)[1])

    def _ratio_low(self, nobs1: np.ndarray) -> np.ndarray:
        # Keep df = nobs1 (1 + ratio) - 2 >= 1, where the t functions are accurate.
        return np.maximum(_RATIO_LOW, 3.0 / nobs1 - 1.0)

    def power(
        self,
        effect_size: Any,
        nobs1: Any,
        alpha: Any,
        ratio: Any = 1,
        df: Any = None,
        alternative: str = "two-sided",
    ) -> Any:
        """Power of the two-sample t-test.

        Parameters
        ----------
        effect_size : float or array_like
            Standardised effect size, difference of means over the pooled
            standard deviation.
        nobs1 : float or array_like
            Observations in sample 1 (``nobs2 = nobs1 * ratio``).
        alpha : float or array_like
            Significance level, in (0, 1).
        ratio : float or array_like, default: 1
            ``nobs2 / nobs1``, positive.
        df : float or array_like, optional
            Degrees of freedom; by default ``nobs1 + nobs2 - 2``, which must
            be positive.
        alternative : {'two-sided', 'larger', 'smaller'}, optional
            The alternative hypothesis.

        Returns
        -------
        power : numpy.float64 or ndarray
            The power, with the broadcast shape of the arguments.
        """
        d, n1, a, r, alt = _power_iv(effect_size, nobs1, alpha, ratio, alternative, True)
        if df is None:
            nobs, dfa = _t_nobs_df(n1, r, None)
            _check_df(dfa)
        else:
            dfa = _as_float("df", df)
            _require("df", dfa, dfa > 0, "positive")
            nobs, _ = _t_nobs_df(n1, r, dfa)
        with np.errstate(invalid="ignore"):
            out = _t_power(d, nobs, a, dfa, alt)
        return out[()]

    def solve_power(
        self,
        effect_size: Any = None,
        nobs1: Any = None,
        alpha: Any = None,
        power: Any = None,
        ratio: Any = 1.0,
        alternative: str = "two-sided",
    ) -> Any:
        """Solve for the one argument that is None, elementwise over a grid.

        Parameters
        ----------
        effect_size, nobs1, alpha, power, ratio : float, array_like or None
            As in :meth:`power`; exactly one is None (``ratio=None`` to solve
            for the ratio). The others broadcast together.
        alternative : {'two-sided', 'larger', 'smaller'}, optional
            The alternative hypothesis.

        Returns
        -------
        value : float or ndarray
            The solution: a float for scalar arguments (as statsmodels;
            ``numpy.float64`` when solving for `power`), else an array of the
            broadcast shape. NaN where an argument is NaN.

        Raises
        ------
        ValueError
            For invalid arguments, or where no value of the unknown reaches
            the target (the message names the grid element).

        Notes
        -----
        ``nobs1`` is searched from 2 upwards, ``ratio`` from 1e-8 (and where
        the degrees of freedom are at least 1), as statsmodels does. For a
        two-sided test the positive effect size is returned.
        """
        return super().solve_power(effect_size, nobs1, alpha, power, ratio, alternative)


#: ``NormalIndPower().solve_power``, as in statsmodels.
zt_ind_solve_power = NormalIndPower().solve_power
#: ``TTestIndPower().solve_power``, as in statsmodels.
tt_ind_solve_power = TTestIndPower().solve_power


# --------------------------------------------------------------------------
# experimenters' functions


def proportion_effectsize(prop1: Any, prop2: Any, method: str = "normal") -> Any:
    r"""Cohen's effect size h of two proportions, as :func:`statsmodels.stats.proportion.proportion_effectsize`.

    Parameters
    ----------
    prop1, prop2 : float or array_like
        The proportions, in [0, 1]; they broadcast.
    method : {'normal'}, optional
        The only method (statsmodels' only one too).

    Returns
    -------
    h : numpy.float64 or ndarray
        The effect size of ``prop1 - prop2`` on the arcsine scale.

    Notes
    -----
    .. math::

        h = 2 \arcsin\sqrt{p_1} - 2 \arcsin\sqrt{p_2},

    a difference on the variance-stabilising scale, where each proportion's
    estimate has variance about :math:`1/n` [1]_.

    References
    ----------
    .. [1] J. Cohen, *Statistical Power Analysis for the Behavioral
       Sciences*, 2nd ed., Erlbaum, 1988, ch. 6.

    Examples
    --------
    >>> from fastinf.power import proportion_effectsize
    >>> round(float(proportion_effectsize(0.5, 0.4)), 6)
    0.201358
    """
    if method != "normal":
        raise ValueError(f"`method` must be 'normal' (the only one implemented), got {method!r}.")
    p1 = _as_float("prop1", prop1)
    p2 = _as_float("prop2", prop2)
    _require("prop1", p1, (p1 >= 0) & (p1 <= 1), "in [0, 1]")
    _require("prop2", p2, (p2 >= 0) & (p2 <= 1), "in [0, 1]")
    es = 2 * (np.arcsin(np.sqrt(p1)) - np.arcsin(np.sqrt(p2)))
    return es[()]


@dataclass(frozen=True, slots=True)
class SampleSize:
    """Sample sizes of a two-arm experiment (unrounded).

    Take ``np.ceil(nobs1)`` and ``np.ceil(nobs2)`` for whole units: the power
    at the rounded-up sizes is at least the target.

    Attributes
    ----------
    nobs1 : float or ndarray
        Observations in the first (control, baseline) arm.
    nobs2 : float or ndarray
        Observations in the second arm, ``ratio * nobs1``.
    total : float or ndarray
        ``nobs1 + nobs2``.
    """

    nobs1: float | np.ndarray
    nobs2: float | np.ndarray
    total: float | np.ndarray

    def __iter__(self) -> Iterator[float | np.ndarray]:
        return iter((self.nobs1, self.nobs2, self.total))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, i: int) -> float | np.ndarray:
        return (self.nobs1, self.nobs2, self.total)[i]


def _sample_size(nobs1: Any, ratio: np.ndarray) -> SampleSize:
    nobs2 = nobs1 * ratio
    total = nobs1 + nobs2
    if np.ndim(nobs1) == 0:
        return SampleSize(float(nobs1), float(nobs2), float(total))
    return SampleSize(nobs1, np.asarray(nobs2), np.asarray(total))


def _options_iv(alpha: Any, power: Any, ratio: Any, alternative: Any) -> np.ndarray:
    _probability("alpha", alpha)
    _probability("power", power)
    _alternative_iv(alternative)
    r = _as_float("ratio", ratio)
    _require("ratio", r, (r >= 0) & np.isfinite(r), "non-negative and finite (0: one sample)")
    return r


def _second_rate(baseline: Any, effect: Any, relative: bool) -> tuple[np.ndarray, np.ndarray]:
    p1 = _as_float("baseline", baseline)
    _require("baseline", p1, (p1 > 0) & (p1 < 1), "a rate in the open interval (0, 1)")
    eff = _finite("effect", effect)
    _require("effect", eff, eff != 0, "non-zero")
    p1, eff = np.broadcast_arrays(p1, eff)
    p2 = p1 * (1 + eff) if relative else p1 + eff
    kind = "relative" if relative else "absolute"
    _require("effect", eff, (p2 >= 0) & (p2 <= 1),
             f"such that the treated rate baseline {'* (1 + effect)' if relative else '+ effect'} "
             f"is in [0, 1] ({kind} effect)")
    return p1, p2


def sample_size_proportions(
    baseline: Any,
    effect: Any,
    *,
    relative: bool = False,
    alpha: Any = 0.05,
    power: Any = 0.8,
    ratio: Any = 1.0,
    alternative: str = "two-sided",
) -> SampleSize:
    r"""Sample size to detect a change of a rate (conversion, click-through), vectorised.

    Parameters
    ----------
    baseline : float or array_like
        The control arm's rate :math:`p_1`, in (0, 1).
    effect : float or array_like
        The change to detect: :math:`p_2 - p_1`, or :math:`p_2 / p_1 - 1`
        with ``relative=True``. Non-zero, with :math:`p_2` in [0, 1].
    relative : bool, default: False
        Whether `effect` is relative to `baseline`.
    alpha : float or array_like, default: 0.05
        Significance level.
    power : float or array_like, default: 0.8
        Target power.
    ratio : float or array_like, default: 1.0
        ``nobs2 / nobs1``; 0 for a one-sample test against a known `baseline`.
    alternative : {'two-sided', 'larger', 'smaller'}, optional
        ``'larger'``: the test of :math:`p_2 > p_1`.

    Returns
    -------
    SampleSize
        ``nobs1``, ``nobs2`` and ``total``, unrounded (take ``np.ceil``),
        floats for scalar arguments, else arrays of the broadcast shape.

    Notes
    -----
    The sample size of the z-test on Cohen's arcsine effect size [1]_, as
    ``statsmodels``' ``NormalIndPower().solve_power(proportion_effectsize(p2,
    p1), nobs1=None, ...)`` (the power of the two-sided test includes the far
    tail):

    .. math::

        h = 2\arcsin\sqrt{p_2} - 2\arcsin\sqrt{p_1}, \qquad
        \mathrm{power} = \Phi\Bigl(h\sqrt{\tfrac{n_1 r}{1 + r}} - z_{1-\alpha'}\Bigr)
                       + \Phi\Bigl(-h\sqrt{\tfrac{n_1 r}{1 + r}} - z_{1-\alpha'}\Bigr),

    with :math:`\alpha' = \alpha/2` for a two-sided test and one term for a
    one-sided one. Without the far tail,
    :math:`n_1 = \frac{1 + r}{r}\,(z_{1-\alpha'} + z_{\mathrm{power}})^2 / h^2`.

    References
    ----------
    .. [1] J. Cohen, *Statistical Power Analysis for the Behavioral
       Sciences*, 2nd ed., Erlbaum, 1988, ch. 6.

    Examples
    --------
    >>> from fastinf.power import sample_size_proportions
    >>> n = sample_size_proportions(0.10, 0.01)  # 10% -> 11%
    >>> round(n.nobs1, 1)
    14744.1
    """
    r = _options_iv(alpha, power, ratio, alternative)
    p1, p2 = _second_rate(baseline, effect, relative)
    h = 2 * (np.arcsin(np.sqrt(p2)) - np.arcsin(np.sqrt(p1)))
    nobs1 = NormalIndPower().solve_power(h[()], None, alpha, power, r[()], alternative)
    return _sample_size(nobs1, r)


def mde_proportions(
    baseline: Any,
    nobs1: Any,
    *,
    relative: bool = False,
    alpha: Any = 0.05,
    power: Any = 0.8,
    ratio: Any = 1.0,
    alternative: str = "two-sided",
) -> Any:
    r"""Minimum detectable change of a rate, vectorised.

    Parameters
    ----------
    baseline : float or array_like
        The control arm's rate :math:`p_1`, in (0, 1).
    nobs1 : float or array_like
        Observations in the first arm (``nobs2 = ratio * nobs1``).
    relative : bool, default: False
        Return :math:`p_2 / p_1 - 1` instead of :math:`p_2 - p_1`.
    alpha, power, ratio, alternative
        As in :func:`sample_size_proportions`.

    Returns
    -------
    effect : float or ndarray
        The smallest change detected with the given power: an increase for
        ``'two-sided'`` and ``'larger'``, a decrease (negative) for
        ``'smaller'``.

    Notes
    -----
    The inverse of :func:`sample_size_proportions`: the effect size
    :math:`h` is solved from the power equation (``NormalIndPower``), then
    :math:`p_2 = \sin^2(\arcsin\sqrt{p_1} + h/2)`. Because the arcsine scale
    is not linear in the rate, the detectable decrease of a two-sided test
    differs from the increase; ask for it with ``alternative='smaller'`` and
    ``alpha / 2`` (which ignores the far tail's negligible share).

    Examples
    --------
    >>> from fastinf.power import mde_proportions
    >>> round(float(mde_proportions(0.10, 14744.1)), 4)
    0.01
    """
    r = _options_iv(alpha, power, ratio, alternative)
    p1 = _as_float("baseline", baseline)
    _require("baseline", p1, (p1 > 0) & (p1 < 1), "a rate in the open interval (0, 1)")
    n1 = _as_float("nobs1", nobs1)
    _require("nobs1", n1, n1 > 0, "positive")
    h = NormalIndPower().solve_power(None, n1[()], alpha, power, r[()], alternative)
    theta = np.arcsin(np.sqrt(p1)) + np.asarray(h) / 2
    theta, p1b = np.broadcast_arrays(theta, p1)
    _require(
        "nobs1", theta, (theta >= 0) & (theta <= np.pi / 2),
        "large enough that a rate in [0, 1] is detectable from this baseline "
        "(it is not, at the grid element named)",
    )
    p2 = np.sin(theta) ** 2
    out = p2 / p1b - 1 if relative else p2 - p1b
    return float(out) if out.ndim == 0 else out


def _means_iv(
    sd: Any, baseline: Any, relative: bool, test: str
) -> tuple[np.ndarray, np.ndarray | None, type[_IndPower]]:
    if test not in ("t", "normal"):
        raise ValueError(f"`test` must be 't' or 'normal', got {test!r}.")
    s = _as_float("sd", sd)
    _require("sd", s, (s > 0) & np.isfinite(s), "positive and finite")
    base = None
    if relative:
        if baseline is None:
            raise ValueError("`baseline` (the control mean) is required when `relative=True`.")
        base = _finite("baseline", baseline)
        _require("baseline", base, base != 0, "non-zero for a relative effect")
    return s, base, TTestIndPower if test == "t" else NormalIndPower


def sample_size_means(
    sd: Any,
    effect: Any,
    *,
    baseline: Any = None,
    relative: bool = False,
    alpha: Any = 0.05,
    power: Any = 0.8,
    ratio: Any = 1.0,
    alternative: str = "two-sided",
    test: str = "t",
) -> SampleSize:
    r"""Sample size to detect a change of a mean (revenue, latency), vectorised.

    Parameters
    ----------
    sd : float or array_like
        Standard deviation of one observation (both arms).
    effect : float or array_like
        The change of the mean to detect: :math:`\mu_2 - \mu_1`, or
        :math:`\mu_2 / \mu_1 - 1` with ``relative=True``. Non-zero.
    baseline : float or array_like, optional
        The control mean :math:`\mu_1`; needed only with ``relative=True``.
    relative : bool, default: False
        Whether `effect` is relative to `baseline`.
    alpha, power, ratio, alternative
        As in :func:`sample_size_proportions` (``ratio=0`` needs
        ``test='normal'``).
    test : {'t', 'normal'}, default: 't'
        The pooled-variance t-test (:class:`TTestIndPower`) or the z-test
        (:class:`NormalIndPower`).

    Returns
    -------
    SampleSize
        ``nobs1``, ``nobs2`` and ``total``, unrounded (take ``np.ceil``).

    Notes
    -----
    The effect size is :math:`d = (\mu_2 - \mu_1) / \sigma`, with
    :math:`\mu_2 - \mu_1 = \text{effect} \cdot \mu_1` for a relative effect,
    and :math:`n_1` solves the power equation of the chosen test (see
    :class:`TTestIndPower`), as ``TTestIndPower().solve_power(d, nobs1=None,
    ...)`` in statsmodels [1]_.

    References
    ----------
    .. [1] statsmodels, ``statsmodels.stats.power.TTestIndPower``.

    Examples
    --------
    >>> from fastinf.power import sample_size_means
    >>> n = sample_size_means(10.0, 2.0)  # d = 0.2
    >>> round(n.nobs1, 2), round(n.total, 2)
    (393.41, 786.81)
    """
    r = _options_iv(alpha, power, ratio, alternative)
    s, base, cls = _means_iv(sd, baseline, relative, test)
    eff = _finite("effect", effect)
    _require("effect", eff, eff != 0, "non-zero")
    delta = eff * base if base is not None else eff
    d = delta / s
    nobs1 = cls().solve_power(d[()], None, alpha, power, r[()], alternative)
    return _sample_size(nobs1, r)


def mde_means(
    sd: Any,
    nobs1: Any,
    *,
    baseline: Any = None,
    relative: bool = False,
    alpha: Any = 0.05,
    power: Any = 0.8,
    ratio: Any = 1.0,
    alternative: str = "two-sided",
    test: str = "t",
) -> Any:
    r"""Minimum detectable change of a mean, vectorised.

    Parameters
    ----------
    sd : float or array_like
        Standard deviation of one observation.
    nobs1 : float or array_like
        Observations in the first arm (``nobs2 = ratio * nobs1``).
    baseline : float or array_like, optional
        The control mean; needed only with ``relative=True``.
    relative : bool, default: False
        Return the change relative to `baseline`.
    alpha, power, ratio, alternative, test
        As in :func:`sample_size_means`.

    Returns
    -------
    effect : float or ndarray
        :math:`d\,\sigma` (divided by `baseline` when relative), with
        :math:`d` the effect size solved from the power equation: positive
        for ``'two-sided'`` and ``'larger'``, negative for ``'smaller'``.

    Examples
    --------
    >>> from fastinf.power import mde_means
    >>> round(float(mde_means(10.0, 393.4057)), 4)
    2.0
    """
    r = _options_iv(alpha, power, ratio, alternative)
    s, base, cls = _means_iv(sd, baseline, relative, test)
    n1 = _as_float("nobs1", nobs1)
    _require("nobs1", n1, n1 > 0, "positive")
    d = cls().solve_power(None, n1[()], alpha, power, r[()], alternative)
    out = np.asarray(d) * s
    if base is not None:
        out = out / base
    return float(out) if out.ndim == 0 else out
