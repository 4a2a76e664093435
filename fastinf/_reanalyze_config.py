"""The options of ``fastinf reanalyze``: their checks, metrics specs and config files (TOML, YAML, JSON)."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastinf._unit_extras import BOOTSTRAP_METHODS
from fastinf.archive import ArchiveError, MetricSpec, parse_metrics

__all__ = ["CONFIG_KEYS", "load_config", "load_metrics"]

_ALTERNATIVES = ("two-sided", "greater", "less")
_FAMILIES = ("experiment", "experiment-treatment", "metric", "all")
_BOOT_LOWER = tuple(m.lower() for m in BOOTSTRAP_METHODS)



def _read_mapping(path: str, what: str) -> dict[str, Any]:
    import json

    low = path.lower()
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the {what} ({exc.strerror or exc}).") from None
    try:
        if low.endswith(".toml"):
            try:
                import tomllib
            except ImportError:  # Python < 3.11
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(raw.decode("utf-8"))
        elif low.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise ArchiveError(
                    f"{path}: reading YAML needs PyYAML (pip install pyyaml); or write the "
                    f"{what} as TOML or JSON.") from None
            data = yaml.safe_load(raw.decode("utf-8"))
        elif low.endswith(".json"):
            data = json.loads(raw.decode("utf-8"))
        else:
            raise ArchiveError(f"{path}: the {what} must be a .toml, .yaml/.yml or .json file.")
    except ArchiveError:
        raise
    except Exception as exc:  # each parser has its own error class
        raise ArchiveError(f"{path}: cannot parse the {what}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArchiveError(f"{path}: the {what} must be a table (a mapping) of settings.")
    return data


def load_metrics(path: Any) -> dict[str, MetricSpec]:
    """Read a metrics spec (TOML, YAML or JSON): ``metric -> type`` or a table of settings.

    Each metric maps to its type (``'binomial'``, ``'mean'``, ``'ratio'``) or
    to a table with any of ``type``, ``guardrail`` (bool),
    ``higher_is_better`` (bool) and ``min_effect`` (number >= 0). A file
    whose only key is ``metrics`` holding such a table is read as that table.
    """
    path = os.fspath(path)
    data = _read_mapping(path, "metrics spec")
    if set(data) == {"metrics"} and isinstance(data["metrics"], Mapping):
        data = dict(data["metrics"])
    return parse_metrics(data, path)


#: Keys of a config file: the options of :func:`reanalyze` and of the command.
CONFIG_KEYS = (
    "control", "metrics", "alpha", "alternative", "correction", "family", "cuped",
    "min_effect", "relative_min_effect", "guardrails", "errors", "chunk_rows", "format",
    "quiet", "report", "bootstrap", "n_resamples", "seed",
    # the command's engine (``--engine dask``), not options of ``reanalyze``
    "engine", "scheduler", "workers", "threads_per_worker", "connect_timeout",
)
_CONFIG_ALIASES = {"sides": "alternative", "guardrail": "guardrails", "resamples": "n_resamples",
                   "bootstrap_method": "bootstrap", "n_workers": "workers"}


def load_config(path: Any) -> dict[str, Any]:
    """Read a config file (TOML, YAML or JSON) holding the command's options.

    Keys are the options' long names, with ``_`` or ``-`` (``alpha``,
    ``alternative``, ``correction``, ``family``, ``cuped``, ``min_effect``,
    ``relative_min_effect``, ``guardrails``, ``control``, ``metrics`` (a
    spec file, relative to the config file, or an inline table),
    ``errors``, ``chunk_rows``, ``format``, ``quiet``, ``report``,
    ``bootstrap`` (or ``bootstrap_method``), ``n_resamples`` (or
    ``resamples``), ``seed``, and the command's engine keys ``engine``,
    ``scheduler``, ``workers``, ``threads_per_worker``, ``connect_timeout``,
    which are for :func:`fastinf.dask.reanalyze_dask`); a file whose only key is
    ``reanalyze`` is read as that table. Returns a dict of those names.
    """
    path = os.fspath(path)
    data = _read_mapping(path, "config file")
    if set(data) == {"reanalyze"} and isinstance(data["reanalyze"], Mapping):
        data = dict(data["reanalyze"])
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        name = _CONFIG_ALIASES.get(name, name)
        if name not in CONFIG_KEYS:
            close = difflib.get_close_matches(name, CONFIG_KEYS, n=1)
            more = f" (did you mean {close[0]!r}?)" if close else ""
            raise ArchiveError(f"{path}: unknown option {key!r}{more}.")
        out[name] = value
    m = out.get("metrics")
    if isinstance(m, str) and not os.path.isabs(m):
        out["metrics"] = os.path.join(os.path.dirname(os.path.abspath(path)), m)
    if isinstance(m, Mapping):
        parse_metrics(m, f"{path}: metrics")  # check it here, to name the file
    return out


@dataclass(frozen=True)
class _Options:
    control: str
    spec: dict[str, MetricSpec]
    guardrails: frozenset[str]
    alpha: float
    alternative: str
    correction: str | None
    family: str
    cuped: bool
    min_effect: float
    relative_min_effect: bool
    errors: str
    chunk_rows: int
    bootstrap: str = "poisson"
    n_resamples: int = 999
    seed: int = 0


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        more = f" (did you mean {close[0]!r}?)" if close else ""
        raise ArchiveError(f"`{name}` must be one of {', '.join(choices)}; got {value!r}{more}.")
    return str(value)


def _options_iv(
    control: Any, metrics: Any, alpha: Any, alternative: Any, correction: Any, family: Any,
    cuped: Any, min_effect: Any, relative_min_effect: Any, guardrails: Any, errors: Any,
    chunk_rows: Any, bootstrap: Any = "poisson", n_resamples: Any = 999, seed: Any = 0,
) -> _Options:
    from fastinf.multitest import _METHOD

    if not isinstance(control, str) or not control:
        raise ArchiveError("`control` must be the (non-empty) name of the control variant.")
    if metrics is None:
        spec: dict[str, MetricSpec] = {}
    elif isinstance(metrics, Mapping):
        spec = parse_metrics(metrics)
    else:
        spec = load_metrics(metrics)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ArchiveError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    if correction in (None, "none"):
        correction = None
    elif correction not in _METHOD:
        _choice(correction, "correction", ["none", *sorted(set(_METHOD.values()))])
    for name, value in (("cuped", cuped), ("relative_min_effect", relative_min_effect)):
        if not isinstance(value, bool):
            raise ArchiveError(f"`{name}` must be True or False; got {value!r}.")
    if (isinstance(min_effect, bool) or not isinstance(min_effect, (int, float))
            or not math.isfinite(min_effect) or min_effect < 0):
        raise ArchiveError(f"`min_effect` must be a number >= 0; got {min_effect!r}.")
    if isinstance(guardrails, str):
        guardrails = (guardrails,)
    guardrails = tuple(guardrails)
    if not all(isinstance(g, str) for g in guardrails):
        raise ArchiveError("`guardrails` must be metric names.")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ArchiveError(f"`chunk_rows` must be a positive integer; got {chunk_rows!r}.")
    if isinstance(bootstrap, str) and bootstrap.lower() in _BOOT_LOWER:
        bootstrap = BOOTSTRAP_METHODS[_BOOT_LOWER.index(bootstrap.lower())]
    bootstrap = _choice(bootstrap, "bootstrap", BOOTSTRAP_METHODS)
    if (isinstance(n_resamples, bool) or not isinstance(n_resamples, int)
            or n_resamples < 1):
        raise ArchiveError(f"`n_resamples` must be a positive integer; got {n_resamples!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArchiveError(f"`seed` must be a non-negative integer; got {seed!r}.")
    return _Options(
        control=control, spec=spec, guardrails=frozenset(guardrails), alpha=float(alpha),
        alternative=_choice(alternative, "alternative", _ALTERNATIVES),
        correction=None if correction is None else str(correction),
        family=_choice(family, "family", _FAMILIES), cuped=cuped, min_effect=float(min_effect),
        relative_min_effect=relative_min_effect, errors=_choice(errors, "errors", ("raise", "skip")),
        chunk_rows=chunk_rows, bootstrap=bootstrap, n_resamples=n_resamples, seed=seed,
    )
