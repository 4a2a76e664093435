"""The built-in demo: ``fastinf reanalyze`` on a synthetic unit-level archive with known truth.

The archive has ``n_experiments`` experiments, each with a control and a
treatment arm of 100 to 1 000 units and two metrics: ``revenue``,
log-normal (skewed, revenue-like), and ``conversion``, 0/1. One experiment
in five has a real effect: a relative lift of 10 to 30 % in revenue and of
15 to 40 % in conversion. The demo writes the archive as Parquet to a
temporary folder, runs the re-analysis pipeline on it (Welch's t test for
revenue, the two-proportion z test for conversion, Benjamini-Hochberg over
the whole archive, Mann-Whitney p-values and bootstrap intervals of the
difference of means), and reports the true and false discoveries, the false
discoveries to expect, the coverage of the intervals and the time taken;
``compare=True`` also times scipy on the same work, measured on a subset of
experiments and scaled to the archive.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.ragged import Ragged

__all__ = ["Archive", "make_archive", "run"]

METRICS = ("conversion", "revenue")


@dataclass(frozen=True)
class Archive:
    """A synthetic archive: per-arm Ragged samples and the true differences of means."""

    treatment: Ragged  # revenue
    control: Ragged
    true_diff: np.ndarray
    conversion_treatment: Ragged
    conversion_control: Ragged
    true_conversion_diff: np.ndarray

    @property
    def has_effect(self) -> np.ndarray:
        """Whether each experiment has a real lift."""
        return self.true_diff != 0

    def samples(self, metric: str) -> tuple[Ragged, Ragged, np.ndarray]:
        """``(treatment, control, true difference)`` of ``metric``."""
        if metric == "revenue":
            return self.treatment, self.control, self.true_diff
        return self.conversion_treatment, self.conversion_control, self.true_conversion_diff

    def to_table(self) -> Any:
        """The unit-level rows (``experiment_id``, ``variant``, ``revenue``, ``conversion``)."""
        import pyarrow as pa

        n_t, n_c = self.treatment.sizes, self.control.sizes
        E = n_t.size
        arm = np.repeat(np.arange(2 * E), np.stack([n_c, n_t], axis=1).reshape(-1))
        starts = np.r_[0, np.cumsum(np.stack([n_c, n_t], axis=1).reshape(-1))[:-1]]

        def interleave(c: Ragged, t: Ragged) -> np.ndarray:
            out = np.empty(arm.size)
            pos = np.arange(arm.size) - starts[arm]
            ctl = arm % 2 == 0
            e = arm // 2
            out[ctl] = c.values[c.offsets[e[ctl]] + pos[ctl]]
            out[~ctl] = t.values[t.offsets[e[~ctl]] + pos[~ctl]]
            return out

        variants = pa.DictionaryArray.from_arrays(pa.array(arm % 2, pa.int8()),
                                                  pa.array(["control", "treatment"]))
        return pa.table({
            "experiment_id": pa.array(arm // 2, pa.int64()),
            "variant": variants,
            "revenue": interleave(self.control, self.treatment),
            "conversion": interleave(self.conversion_control, self.conversion_treatment)
            .astype(np.int8),
        })


def make_archive(n_experiments: int = 2000, seed: int = 2026) -> Archive:
    """Generate the demo archive (deterministic for a given ``seed``)."""
    rng = np.random.default_rng(seed)
    sigma = 1.0
    E = n_experiments
    base = rng.uniform(5.0, 50.0, E)
    effect = rng.random(E) < 0.2
    lift = np.where(effect, rng.uniform(0.1, 0.3, E), 0.0)
    rate = rng.uniform(0.05, 0.3, E)
    rate_t = rate * (1.0 + np.where(effect, rng.uniform(0.15, 0.4, E), 0.0))
    n_c = rng.integers(100, 1001, E)
    n_t = rng.integers(100, 1001, E)
    # log-normal with mean `base` (control) and `base * (1 + lift)` (treatment)
    mu_c = np.repeat(np.log(base) - sigma**2 / 2, n_c)
    mu_t = np.repeat(np.log(base * (1 + lift)) - sigma**2 / 2, n_t)
    off_c, off_t = np.r_[0, np.cumsum(n_c)], np.r_[0, np.cumsum(n_t)]
    rev_c = np.exp(mu_c + sigma * rng.standard_normal(mu_c.size))
    rev_t = np.exp(mu_t + sigma * rng.standard_normal(mu_t.size))
    conv_c = (rng.random(mu_c.size) < np.repeat(rate, n_c)).astype(np.float64)
    conv_t = (rng.random(mu_t.size) < np.repeat(rate_t, n_t)).astype(np.float64)
    return Archive(Ragged(rev_t, off_t), Ragged(rev_c, off_c), base * lift,
                   Ragged(conv_t, off_t), Ragged(conv_c, off_c), rate_t - rate)


def run(
    n_experiments: int = 2000,
    *,
    n_resamples: int = 999,
    alpha: float = 0.05,
    bootstrap: str = "poisson",
    compare: bool = False,
    compare_subset: int = 20,
    seed: int = 2026,
    out: Any = None,
) -> dict[str, float]:
    """Run the demo and print its report; return the summary figures."""
    import sys

    import pyarrow.parquet as pq

    from fastinf.reanalyze import reanalyze

    write = (out or sys.stdout).write
    archive = make_archive(n_experiments, seed)
    units = int(archive.treatment.values.size + archive.control.values.size)
    write(
        f"fastinf demo: {n_experiments} synthetic A/B experiments, {units:,} units, 2 metrics "
        f"(revenue, conversion), {int(archive.has_effect.sum())} experiments with a real lift\n"
    )
    kw: dict[str, Any] = dict(alpha=alpha, family="all", correction="fdr_bh", bootstrap=bootstrap,
              n_resamples=n_resamples, seed=seed, progress=False)
    with tempfile.TemporaryDirectory(prefix="fastinf-demo-") as folder:
        # First use compiles the kernels (or loads them from the on-disk cache):
        # pay that on a tiny archive so the timings below are of the work itself.
        tc = time.perf_counter()
        pq.write_table(make_archive(3, seed).to_table(), os.path.join(folder, "tiny.parquet"))
        reanalyze(os.path.join(folder, "tiny.parquet"), os.path.join(folder, "tiny-out.parquet"),
                  **{**kw, "n_resamples": 9})
        compile_s = time.perf_counter() - tc

        path = os.path.join(folder, "archive.parquet")
        pq.write_table(archive.to_table(), path, row_group_size=1 << 18)
        t0 = time.perf_counter()
        summary = reanalyze(path, os.path.join(folder, "results.parquet"), **kw)
        run_s = time.perf_counter() - t0
        res = pq.read_table(os.path.join(folder, "results.parquet")).to_pydict()

    e = np.asarray(res["experiment_id"], dtype=np.int64)
    metric = np.asarray(res["metric"], dtype=object)
    is_rev = metric == "revenue"
    truth = np.where(is_rev, archive.true_diff[e], archive.true_conversion_diff[e])
    real = truth != 0
    sig = np.asarray(res["significant"], dtype=bool)
    low, high = np.asarray(res["boot_ci_low"]), np.asarray(res["boot_ci_high"])
    ci_low, ci_high = np.asarray(res["ci_low"]), np.asarray(res["ci_high"])

    label = {"poisson": "Poisson", "bca": "BCa"}.get(bootstrap.lower(), bootstrap)
    write(f"\n{'exp':>5} {'metric':>10} {'n_t':>5} {'n_c':>5} {'diff':>9} "
          f"{'95% ' + label + ' interval':>23} {'p':>7} {'p_BH':>7} {'true':>7}\n")
    for r in range(min(10, e.size)):
        write(
            f"{e[r]:>5} {metric[r]:>10} {res['treatment_n'][r]:>5.0f} {res['control_n'][r]:>5.0f} "
            f"{res['estimate'][r]:>9.3f} [{low[r]:>9.3f}, {high[r]:>9.3f}] "
            f"{res['p_value'][r]:>7.4f} {res['p_value_adjusted'][r]:>7.4f} {truth[r]:>7.3f}\n"
        )
    true_disc = int((sig & real).sum())
    false_disc = int((sig & ~real).sum())
    tests = int(e.size)
    # Benjamini-Hochberg keeps E[false / discoveries] <= alpha * m0 / m.
    expected_false = alpha * (~real).sum() / max(tests, 1) * (true_disc + false_disc)
    covered = float(np.mean((low <= truth) & (truth <= high)))
    covered_ci = float(np.mean((ci_low <= truth) & (truth <= ci_high)))
    write(
        f"\ndiscoveries (Benjamini-Hochberg over all {tests} tests, alpha={alpha}): "
        f"{true_disc} true, {false_disc} false (expected false <= {expected_false:.1f}); "
        f"{int(real.sum())} tests have a real effect\n"
        f"interval coverage: {label} bootstrap {covered:.3f}, Welch/z {covered_ci:.3f} "
        f"(nominal {1 - alpha:.2f})\n"
        f"fastinf: {run_s:.2f} s for {summary.rows_read:,} unit rows: Welch/z tests, "
        f"Mann-Whitney, {label} bootstrap ({n_resamples} resamples), BH "
        f"(kernel compile or cache load before: {compile_s:.1f} s, once per machine and "
        "version)\n"
    )
    figures = {
        "compile_s": compile_s,
        "reanalyze_s": run_s,
        "true_discoveries": true_disc,
        "false_discoveries": false_disc,
        "expected_false_discoveries": expected_false,
        "coverage": covered,
        "welch_coverage": covered_ci,
    }
    if compare:
        figures.update(_compare(archive, n_resamples, compare_subset, seed, run_s, write))
    return figures


def _compare(
    archive: Archive, n_resamples: int, subset: int, seed: int, run_s: float, write: Any,
) -> dict[str, float]:
    """Time scipy on the same work (tests, rank test, BCa bootstrap) on a subset, scaled."""
    from scipy import stats

    def mean_diff(x, y, axis=-1):  # type: ignore[no-untyped-def]
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    n = archive.true_diff.size
    k = min(subset, n)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for metric in METRICS:
        tr, co, _ = archive.samples(metric)
        for e in range(k):
            stats.ttest_ind(tr[e], co[e], equal_var=False)
            stats.mannwhitneyu(tr[e], co[e])
            stats.bootstrap((tr[e], co[e]), mean_diff, n_resamples=n_resamples, method="BCa",
                            rng=rng)
    scipy_s = (time.perf_counter() - t0) * n / k
    write(
        f"scipy (measured on {k} experiments, scaled to {n}): {scipy_s:.1f} s for the same "
        f"tests and bootstrap ({scipy_s / run_s:.0f}x slower)\n"
    )
    return {"scipy_s": scipy_s}
