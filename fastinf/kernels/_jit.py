"""The one place that owns Numba's compile options.

Every kernel in :mod:`fastinf.kernels` is decorated with :func:`jit`, so the
options below hold for all of them:

* ``cache=True``: compile once per machine; a second process loads the
  machine code from disk. Nothing is compiled at import: a dispatcher compiles
  lazily on its first call.
* ``error_model="numpy"``: division by zero gives inf/nan like NumPy instead of
  raising, and lets LLVM vectorise divisions.
* no ``fastmath``: it lets LLVM assume there are no NaNs, which silently breaks
  every ``x != x`` NaN check and every ``nan_policy``.

The cache does not live beside the sources. Numba keys an on-disk cache entry
on the kernel's *own* file stamp, not on the files of the helpers it inlines,
and ``pip`` leaves ``.nbi``/``.nbc`` files behind on upgrade, so an in-tree
cache can outlive the code it was compiled from. fastinf therefore caches
under a directory named after its own version and Numba's
(``$FASTINF_CACHE_DIR`` or the user cache directory), which also keeps a
read-only ``site-packages`` from failing at import. When no directory is
writable at all, kernels are compiled without a cache instead of raising.
``NUMBA_CACHE_DIR``, when set, still wins, as Numba documents.

Numba's default threading layer is OpenMP, whose workers, after every
parallel kernel, spin on their core for a while before they sleep (GNU
OpenMP's default). Between kernels the Python thread, NumPy's sorts and
Arrow's readers then share the cores with spinning threads: on a 2-core
machine that cost ``fastinf reanalyze`` a third of its CPU time. So, unless
the user set it, ``OMP_WAIT_POLICY`` is set to ``passive`` (idle workers
sleep) before the OpenMP runtime loads; a runtime loaded earlier by another
library keeps its own setting.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numba
from numba.core import caching

from fastinf import __version__

os.environ.setdefault("OMP_WAIT_POLICY", "passive")

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OPTIONS: dict[str, Any] = {"cache": True, "error_model": "numpy", "nogil": True}


def _user_cache_root() -> str:
    explicit = os.environ.get("FASTINF_CACHE_DIR")
    if explicit:
        return explicit
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "fastinf")


CACHE_DIR = os.path.join(
    _user_cache_root(), f"fastinf-{__version__}-numba-{numba.__version__}"
)


class _VersionedCacheLocator(caching.UserProvidedCacheLocator):
    """Cache fastinf's kernels under :data:`CACHE_DIR`, nothing else's."""

    def __init__(self, py_func: Callable[..., Any], py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        subpath = self.get_suitable_cache_subpath(py_file)
        self._cache_path = os.path.join(CACHE_DIR, subpath)

    @classmethod
    def from_function(
        cls, py_func: Callable[..., Any], py_file: str
    ) -> _VersionedCacheLocator | None:
        if not os.path.abspath(py_file).startswith(_PACKAGE_DIR):
            return None
        if not os.path.exists(py_file):
            return None
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None
        return self


def _install_locator() -> None:
    classes = caching.CacheImpl._locator_classes
    if _VersionedCacheLocator not in classes:
        # After the user-provided NUMBA_CACHE_DIR locator, before in-tree.
        classes.insert(1, _VersionedCacheLocator)


_install_locator()


def jit(
    func: Callable[..., Any] | None = None, *, parallel: bool = False, **extra: Any
) -> Any:
    """Decorate a kernel with fastinf's options (``@jit`` or ``@jit(parallel=True)``)."""

    def decorate(f: Callable[..., Any]) -> Any:
        options = {**OPTIONS, "parallel": parallel, **extra}
        try:
            return numba.njit(**options)(f)
        except RuntimeError as exc:  # no writable cache location anywhere
            if "cannot cache" not in str(exc):
                raise
            warnings.warn(
                f"fastinf: no writable cache directory for {f.__qualname__}; "
                "kernels will be recompiled in every process "
                "(set FASTINF_CACHE_DIR to a writable folder).",
                RuntimeWarning,
                stacklevel=3,
            )
            options["cache"] = False
            return numba.njit(**options)(f)

    if func is not None:
        return decorate(func)
    return decorate
