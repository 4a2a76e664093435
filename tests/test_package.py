"""Packaging promises: a light import, lazy compilation, a reusable cache."""

import os
import subprocess
import sys
import textwrap

import fastinf


def _run(code, **env):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env}, capture_output=True, text=True, check=True,
    ).stdout


def test_import_loads_neither_numba_nor_scipy():
    out = _run(
        """
        import sys, time
        t = time.perf_counter(); import fastinf; dt = time.perf_counter() - t
        print(sorted(m for m in ('numba', 'scipy', 'scipy.stats') if m in sys.modules), dt)
        """
    )
    assert out.startswith("[]"), out


def test_public_names():
    assert callable(fastinf.bootstrap)
    assert callable(fastinf.permutation_test)
    assert fastinf.Ragged.__name__ == "Ragged"
    assert "bootstrap" in dir(fastinf)


def test_second_process_loads_kernels_from_cache(tmp_path):
    code = """
        import numpy as np
        from fastinf.kernels import rng as K
        K.integers(np.uint64(1), 0, 2, 3, 4)
        print(len(K.integers.stats.cache_hits), len(K.integers.stats.cache_misses))
        """
    first = _run(code, FASTINF_CACHE_DIR=str(tmp_path)).split()
    second = _run(code, FASTINF_CACHE_DIR=str(tmp_path)).split()
    assert first == ["0", "1"]
    assert second == ["1", "0"]
    assert any(p.name.endswith(".nbi") for p in tmp_path.rglob("*"))


def test_unusable_cache_dir_does_not_break_import(tmp_path):
    """A cache directory that cannot be created (under a file: fails even as root)."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = """
        import numpy as np
        from fastinf.kernels import rng as K
        print(K.integers(np.uint64(1), 0, 2, 3, 4).shape)
        """
    out = _run(code, FASTINF_CACHE_DIR=str(blocker / "sub"))
    assert out.strip() == "(2, 3)"


def test_no_cache_location_at_all_falls_back_to_no_cache(monkeypatch):
    """When Numba finds no writable location, the kernel compiles uncached with a warning."""
    import warnings

    from numba.core import caching

    from fastinf.kernels import _jit

    monkeypatch.setattr(caching.CacheImpl, "_locator_classes", [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def twice(x):
            return 2 * x

        kernel = _jit.jit(twice)
    assert kernel(3) == 6
    assert any("no writable cache directory" in str(w.message) for w in caught)


def test_cache_dir_is_versioned():
    from fastinf.kernels import _jit

    assert f"fastinf-{fastinf.__version__}-numba-" in _jit.CACHE_DIR


def test_ci_runs_the_readme_test_command():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    command = 'pip install ".[test]" && python -m pytest'
    assert command in readme
    assert command in ci.splitlines()
    assert "pip install . && fastinf demo" in readme
