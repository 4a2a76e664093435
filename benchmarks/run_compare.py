"""Time fastinf and scipy.stats on the issue's cases in one run; print a markdown table.

Usage, from the repository root::

    python benchmarks/run_compare.py --quick   # small sizes, well under a minute
    python benchmarks/run_compare.py           # the issue's sizes, several minutes

Every measurement runs in its own child process (this script with
``--worker``), so one case's memory, threads or JIT state never leak into the
next, and the peak-RSS figures are per case. In a child: build the data (fixed
seeds), make one small warm-up call of the same function, record the peak
RSS, time the call, record the peak RSS again. For fastinf a throwaway child
first fills the on-disk kernel cache, so that the measuring child's warm-up
loads the kernels rather than compiling them (LLVM's compile-time memory
would otherwise be the peak). fastinf is timed up to ``--repeat`` times
(fewer once 30 s have been spent) and the best time is kept; scipy is timed
once (its large cases take minutes).

The checkout this script lives in is benchmarked: its parent folder is put
first on ``sys.path``, ahead of any installed fastinf.

On a shared machine, each measurement first waits (up to ``--max-wait``
seconds) until other processes use under 0.15 cores, and is measured again
(twice at most, not in ``--quick`` mode, not past 2 minutes) if they used more
while it ran; the CPU other processes used during each kept measurement is
read from ``/proc/stat`` and reported under the table.

Throughput is resampled elements per second per core,
``n * n_resamples / (seconds * cores)``, with ``n`` the observations of all
samples of all experiments and ``cores`` the CPUs this process may run on.

Progress goes to stderr; stdout holds the markdown only. Nothing is written
to disk but fastinf's usual on-disk kernel cache.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FULL = {
    "n": 100_000,
    "n_resamples": 9999,
    "scipy_batch": {"percentile": 200, "BCa": 1000},
    "perm_n": 50_000,
    "perm_resamples": 9999,
    "perm_batches": [1, 10, 100],
    "ragged": (5000, 200, 5000),
    "ragged_resamples": 2000,
    "ragged_subset": 50,
}
QUICK = {
    "n": 10_000,
    "n_resamples": 999,
    "scipy_batch": {"percentile": 200, "BCa": 1000},
    "perm_n": 5_000,
    "perm_resamples": 999,
    "perm_batches": [10, 100],
    "ragged": (200, 200, 1000),
    "ragged_resamples": 200,
    "ragged_subset": 10,
}
_MAX_REPEAT_SECONDS = 30.0
# The machine may be shared: wait for other processes to use less than this
# many cores before a measurement, and measure again (up to _RETRIES times)
# when they used more during it. What they used is reported with each case.
_QUIET_CORES = 0.15
_RETRIES = 2
_NO_RETRY_SECONDS = 120.0  # a measurement this long is kept, loaded or not


# --------------------------------------------------------------------------
# Child process: one measurement
# --------------------------------------------------------------------------


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _bootstrap_calls(spec):
    import numpy as np

    from benchmarks import RESAMPLE_SEED, normal_sample

    method, resampling = spec["method"], spec["resampling"]
    x = normal_sample(spec["n"])
    small = normal_sample(500)
    if spec["impl"] == "fastinf":
        import fastinf

        def call(data, n_resamples):
            return fastinf.bootstrap(
                (data,), np.mean, n_resamples=n_resamples, method=method,
                resampling=resampling, rng=RESAMPLE_SEED,
            )
    else:
        from scipy import stats

        def call(data, n_resamples):
            return stats.bootstrap(
                (data,), np.mean, n_resamples=n_resamples, method=method,
                batch=spec["batch"], rng=RESAMPLE_SEED,
            )

    return (lambda: call(small, 99)), (lambda: call(x, spec["n_resamples"]))


def _permutation_calls(spec):
    from benchmarks import RESAMPLE_SEED, scipy_mean_diff, two_samples

    data = two_samples(spec["n"])
    small = two_samples(200)
    if spec["impl"] == "fastinf":
        import fastinf

        permutation_test = fastinf.permutation_test

        def call(d, n_resamples):
            return permutation_test(d, "mean_diff", n_resamples=n_resamples, rng=RESAMPLE_SEED)
    else:
        from scipy import stats

        def call(d, n_resamples):
            return stats.permutation_test(
                d, scipy_mean_diff, vectorized=True, n_resamples=n_resamples,
                batch=spec["batch"], rng=RESAMPLE_SEED,
            )

    return (lambda: call(small, 99)), (lambda: call(data, spec["n_resamples"]))


def _ragged_calls(spec):
    import numpy as np

    from benchmarks import RESAMPLE_SEED, ragged_arrays

    arrays = ragged_arrays(*spec["ragged"])
    if spec["impl"] == "fastinf":
        import fastinf

        data = (fastinf.Ragged.from_arrays(arrays),)
        small = (fastinf.Ragged.from_arrays(arrays[:3]),)

        def call(d, n_resamples):
            return fastinf.bootstrap(
                d, np.mean, n_resamples=n_resamples, method="BCa", rng=RESAMPLE_SEED
            )

        return (lambda: call(small, 99)), (lambda: call(data, spec["n_resamples"]))

    from scipy import stats

    # A simple random sample of the experiments (sizes are i.i.d.): every k-th.
    subset = arrays[:: len(arrays) // spec["subset"]][: spec["subset"]]

    def loop(d, n_resamples):
        rng = np.random.default_rng(RESAMPLE_SEED)
        return [
            stats.bootstrap((x,), np.mean, n_resamples=n_resamples, method="BCa", rng=rng)
            for x in d
        ]

    return (lambda: loop(subset[:1], 99)), (lambda: loop(subset, spec["n_resamples"]))


def _worker(spec) -> dict:
    calls = {"bootstrap": _bootstrap_calls, "permutation": _permutation_calls,
             "ragged": _ragged_calls}
    warm, run = calls[spec["kind"]](spec)
    warm()
    if spec.get("prime_only"):
        return {"primed": True}
    rss_before = _peak_rss_mb()
    times: list[float] = []
    while len(times) < spec["repeat"] and sum(times) < _MAX_REPEAT_SECONDS:
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    out = {"seconds": min(times), "times": times, "rss_before_mb": rss_before,
           "rss_peak_mb": _peak_rss_mb()}
    if "numba" in sys.modules:
        out["threads"] = sys.modules["numba"].get_num_threads()
    return out


# --------------------------------------------------------------------------
# Parent process: the cases and the table
# --------------------------------------------------------------------------


def _child(spec: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(spec)],
        capture_output=True, text=True,
    )


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the machine have been busy (Linux ``/proc/stat``)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _wait_quiet(threshold: float = _QUIET_CORES, max_wait: float = 600.0) -> float | None:
    """Wait until other processes use under ``threshold`` cores; return the last level seen."""
    start = time.monotonic()
    said = -1
    while True:
        b0 = _busy_seconds()
        time.sleep(1.0)
        b1 = _busy_seconds()
        if b0 is None or b1 is None:
            return None
        level = b1 - b0
        waited = time.monotonic() - start
        if level < threshold or waited > max_wait:
            return level
        if int(waited // 30) > said:
            said = int(waited // 30)
            print(f"[run_compare]   waiting ({waited:.0f} s): other processes use "
                  f"{level:.1f} cores", file=sys.stderr, flush=True)


def _measure(spec: dict, label: str, max_wait: float, retries: int) -> dict:
    """Run one measurement in a child; retry while other processes load the machine.

    ``others`` in the result is the CPU (in cores, averaged over the timed
    child's wall time) that processes other than the child used meanwhile.
    """
    print(f"[run_compare] {label} ...", file=sys.stderr, flush=True)
    if spec["impl"] == "fastinf":
        # Compile into the on-disk cache in a throwaway process first, so that
        # the measuring process loads the kernels and its peak RSS is not
        # LLVM's compile-time peak.
        _child({**spec, "prime_only": True})
    best: dict | None = None
    for _ in range(1 + retries):
        _wait_quiet(max_wait=max_wait)
        b0, c0, t0 = _busy_seconds(), _children_cpu(), time.perf_counter()
        proc = _child(spec)
        b1, c1, wall = _busy_seconds(), _children_cpu(), time.perf_counter() - t0
        others = None if b0 is None or b1 is None else max(0.0, (b1 - b0) - (c1 - c0)) / wall
        if proc.returncode != 0:
            lines = (proc.stderr.strip() or f"exit status {proc.returncode}").splitlines()
            reason = lines[-1] if lines else f"exit status {proc.returncode}"
            if proc.returncode < 0:
                reason = f"killed by signal {-proc.returncode} (out of memory?)"
            print(f"[run_compare]   failed: {reason}", file=sys.stderr, flush=True)
            return {"error": reason}
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        result["others"] = others
        print(
            f"[run_compare]   {result['seconds']:.3f} s (times "
            f"{[round(t, 3) for t in result['times']]}, peak RSS {result['rss_peak_mb']:.0f} MB,"
            f" child wall {wall:.1f} s, other processes "
            f"{'?' if others is None else f'{others:.2f}'} cores)",
            file=sys.stderr, flush=True,
        )
        if best is None or (others or 0.0) < (best["others"] or 0.0):
            best = result
        if others is None or others < _QUIET_CORES or wall > _NO_RETRY_SECONDS:
            break
    assert best is not None
    return best


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or platform.machine()


def _git_describe() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=_REPO, capture_output=True,
            text=True, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=_REPO,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        return sha + (" + uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _source_fingerprint() -> str:
    """A hash of fastinf's sources, to tell whether they changed during the run."""
    import hashlib

    h = hashlib.sha256()
    root = os.path.join(_REPO, "fastinf")
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                h.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as f:
                    h.update(f.read())
    return h.hexdigest()[:12]


def _fmt_s(r: dict | None) -> str:
    if r is None:
        return "n/a"
    if "error" in r:
        return "failed"
    return f"{r['seconds']:.3g}"


def _ratio(scipy_s: float | None, ours: dict) -> str:
    if scipy_s is None or "error" in ours:
        return "n/a"
    return f"{scipy_s / ours['seconds']:.1f}x"


def _throughput(elements: float, ours: dict, cores: int) -> str:
    if "error" in ours:
        return "n/a"
    return f"{elements / (ours['seconds'] * cores):.3g}"


def _num(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def run_cases(
    cfg: dict, repeat: int, max_wait: float, retries: int
) -> tuple[list[list[str]], list[list[str]], dict]:
    """Measure every case; return the timing rows, the memory rows and notes."""
    cores = _cores()
    n, b = cfg["n"], cfg["n_resamples"]
    rows: list[list[str]] = []
    mem: list[list[str]] = []
    notes: dict = {"threads": None, "errors": [], "others": []}

    def note(r, label):
        if "error" in r:
            notes["errors"].append(f"{label}: {r['error']}")
        elif r.get("others") is not None:
            notes["others"].append((label, r["others"]))

    def fastinf(spec, label):
        r = _measure({**spec, "impl": "fastinf", "repeat": repeat}, "fastinf " + label,
                     max_wait, retries)
        notes["threads"] = r.get("threads", notes["threads"])
        note(r, "fastinf " + label)
        return r

    def scipy(spec, label):
        r = _measure({**spec, "impl": "scipy", "repeat": 1}, "scipy " + label, max_wait, retries)
        note(r, "scipy " + label)
        return r

    def mem_row(label, s, f):
        def cell(r):
            if r is None:
                return "n/a"
            if "error" in r:
                return "failed"
            return f"{r['rss_peak_mb']:.0f} (+{r['rss_peak_mb'] - r['rss_before_mb']:.0f})"

        mem.append([label, cell(s), cell(f)])

    # (1) and (4): one-sample mean, percentile and BCa; multinomial and Poisson.
    scipy_boot = {}
    for method in ("percentile", "BCa"):
        batch = cfg["scipy_batch"][method]
        spec = {"kind": "bootstrap", "n": n, "n_resamples": b, "method": method}
        s = scipy({**spec, "resampling": "multinomial", "batch": batch}, f"bootstrap {method}")
        f = fastinf({**spec, "resampling": "multinomial"}, f"bootstrap {method}")
        scipy_s = None if "error" in s else s["seconds"]
        scipy_boot[method] = scipy_s
        label = (f"(1) bootstrap mean, n={_num(n)}, {_num(b)} resamples, {method} "
                 f"(scipy batch={batch})")
        rows.append([label, _fmt_s(s), _fmt_s(f), _ratio(scipy_s, f), _throughput(n * b, f, cores)])
        mem_row(f"bootstrap {method}, n={_num(n)}", s, f)
    for method in ("percentile", "BCa"):
        spec = {"kind": "bootstrap", "n": n, "n_resamples": b, "method": method,
                "resampling": "poisson"}
        f = fastinf(spec, f"bootstrap {method} poisson")
        label = (f"(4) Poisson bootstrap mean, n={_num(n)}, {_num(b)} resamples, {method} "
                 "(scipy column: its multinomial time from (1))")
        scipy_s = scipy_boot[method]
        rows.append([label, "n/a" if scipy_s is None else f"{scipy_s:.3g}", _fmt_s(f),
                     _ratio(scipy_s, f), _throughput(n * b, f, cores)])
        mem_row(f"Poisson bootstrap {method}, n={_num(n)}", None, f)

    # (2) permutation test, difference of means; scipy over its batch sizes.
    pn, pb = cfg["perm_n"], cfg["perm_resamples"]
    spec = {"kind": "permutation", "n": pn, "n_resamples": pb}
    f = fastinf(spec, "permutation mean_diff")
    perm = {batch: scipy({**spec, "batch": batch}, f"permutation batch={batch}")
            for batch in cfg["perm_batches"]}
    ok = {k: v["seconds"] for k, v in perm.items() if "error" not in v}
    fastest = min(ok, key=ok.get) if ok else None
    for batch, s in perm.items():
        tag = " (scipy's fastest)" if batch == fastest else ""
        label = (f"(2) permutation test, mean_diff, 2 x {_num(pn)}, {_num(pb)} resamples, "
                 f"scipy batch={batch}{tag}")
        rows.append([label, _fmt_s(s), _fmt_s(f), _ratio(ok.get(batch), f),
                     _throughput(2 * pn * pb, f, cores)])
        mem_row(f"permutation, 2 x {_num(pn)}, scipy batch={batch}", s, f)

    # (3) ragged experiments, BCa: fastinf in one call, scipy in a loop on a subset.
    n_exp, lo, hi = cfg["ragged"]
    rb, k = cfg["ragged_resamples"], cfg["ragged_subset"]
    spec = {"kind": "ragged", "ragged": [n_exp, lo, hi], "n_resamples": rb, "subset": k}
    f = fastinf(spec, "ragged BCa")
    s = scipy(spec, f"ragged BCa loop over {k} experiments")
    from benchmarks import ragged_arrays

    units = sum(a.size for a in ragged_arrays(n_exp, lo, hi))
    if "error" in s:
        scipy_cell, scipy_s = "failed", None
    else:
        scipy_s = s["seconds"] * n_exp / k
        scipy_cell = f"{scipy_s:.3g} (est.: {s['seconds']:.3g} s for {k} x {n_exp // k})"
    label = (f"(3) {_num(n_exp)} ragged experiments of {_num(lo)}..{_num(hi)} units "
             f"({_num(units)} in all), {_num(rb)} resamples, BCa; scipy loop timed on "
             f"{k} experiments, extrapolated linearly")
    rows.append([label, scipy_cell, _fmt_s(f), _ratio(scipy_s, f),
                 _throughput(units * rb, f, cores)])
    mem_row(f"ragged BCa, {_num(n_exp)} experiments (scipy: {k})", s, f)
    return rows, mem, notes


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    if _REPO not in sys.path:
        sys.path.insert(0, _REPO)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="fastinf timings per case, best kept (default 3)")
    parser.add_argument("--max-wait", type=float, default=None,
                        help="seconds to wait for a quiet machine before each measurement "
                        "(default 600, or 10 with --quick)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0

    import numba
    import numpy
    import scipy

    cfg = QUICK if args.quick else FULL
    started = datetime.datetime.now(datetime.timezone.utc)
    version_before = (_git_describe(), _source_fingerprint())
    t0 = time.perf_counter()
    max_wait = args.max_wait if args.max_wait is not None else (10.0 if args.quick else 600.0)
    retries = 0 if args.quick else _RETRIES
    rows, mem, notes = run_cases(cfg, args.repeat, max_wait, retries)
    wall = time.perf_counter() - t0
    version_after = (_git_describe(), _source_fingerprint())
    version = f"{version_before[0]} (sources {version_before[1]})"
    if version_after != version_before:
        version += (f", CHANGED during the run to {version_after[0]} (sources "
                    f"{version_after[1]}): the cases may mix two versions")
    cores = _cores()
    mode = "--quick" if args.quick else "full"
    print(f"## fastinf vs scipy.stats ({mode} run)\n")
    print(f"- date: {started:%Y-%m-%d %H:%M} UTC; wall time of the run {wall / 60:.1f} min")
    print(f"- machine: {_cpu_model()}, {cores} cores; fastinf threads: {notes['threads']}")
    print(f"- Python {platform.python_version()}, numpy {numpy.__version__}, "
          f"scipy {scipy.__version__}, numba {numba.__version__}; fastinf {version}")
    print(f"- fastinf: best of up to {args.repeat} calls (fewer past {_MAX_REPEAT_SECONDS:.0f} s), "
          "after a warm-up call; scipy: one call. Seconds are wall time.")
    print(f"- throughput: resampled elements per second per core, "
          f"n * n_resamples / (fastinf seconds * {cores})\n")
    print(_table(["case", "scipy s", "fastinf s", "ratio", "elements/s/core (fastinf)"], rows))
    print("\nPeak RSS of each child process in MB (in brackets: growth during the timed "
          "calls, over the peak after data and warm-up):\n")
    print(_table(["case", "scipy", "fastinf"], mem))
    if notes["others"]:
        worst = max(notes["others"], key=lambda p: p[1])
        loaded = [f"{label} ({c:.2f})" for label, c in notes["others"] if c >= _QUIET_CORES]
        print(f"\nOther processes on the machine used at most {worst[1]:.2f} cores on average "
              f"during a measurement ({worst[0]})"
              + (f"; above {_QUIET_CORES} cores: " + "; ".join(loaded) if loaded else "")
              + ".")
    if notes["errors"]:
        print("\nFailures:\n")
        for e in notes["errors"]:
            print(f"- {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
