"""The fast path of unit-level chunks: grouping kernels, two-valued Mann-Whitney, streaming helpers."""

import math
import multiprocessing
import os

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from fastinf import _streaming as S
from fastinf._archive_checks import _codes, experiment_codes
from fastinf._unit_archive import UnitLayout, _variant_codes, aggregate_chunk
from fastinf._unit_extras import _mannwhitney
from fastinf.kernels import ranks as KR
from fastinf.kernels import units as K
from fastinf.ragged import Ragged
from fastinf.ranks import _sort_segments, mannwhitneyu

SEED = 20261201


def test_arm_order_is_numpys_stable_lexsort():
    rng = np.random.default_rng(SEED)
    for n, n_exp, width in ((0, 0, 2), (1, 1, 2), (1000, 7, 3), (5000, 40, 4)):
        e = rng.integers(0, max(n_exp, 1), n)
        v = rng.integers(0, width, n)
        order, start = K.arm_order(e * width + v, max(n_exp, 1) * width)
        want = np.lexsort((v, e))
        assert np.array_equal(order, want)
        assert np.array_equal(np.diff(start), np.bincount(e * width + v,
                                                          minlength=max(n_exp, 1) * width))


@pytest.mark.parametrize("n_exp", [1, 2, 9, 64])
def test_arm_order_runs_equals_the_serial_sort_on_clustered_rows(n_exp):
    rng = np.random.default_rng(SEED + n_exp)
    sizes = rng.integers(1, 300, n_exp)
    e = np.repeat(np.arange(n_exp), sizes)
    code = rng.integers(-1, 2, e.size)  # variant codes; -1: null
    rank = np.array([1, 0, 2])  # code 0 ranks second, code 1 first, nulls last
    order = np.empty(e.size, dtype=np.int64)
    counts = np.empty(n_exp * 3, dtype=np.int64)
    K.arm_order_runs(np.r_[0, np.cumsum(sizes)].astype(np.int64), code, rank, order, counts)
    want, start = K.arm_order(e * 3 + rank[code], n_exp * 3)
    assert np.array_equal(order, want) and np.array_equal(counts, np.diff(start))


def test_arm_sums_gather_and_sum_each_arm():
    rng = np.random.default_rng(SEED)
    n = 3000
    y = rng.lognormal(size=n)
    x = rng.normal(size=n)
    y[:500] = rng.integers(0, 2, 500)  # the first arms hold 0/1 values
    y[2500] = np.inf
    x[2990] = np.nan
    order = rng.permutation(n)
    sizes = np.array([200, 300, 1000, 1500])
    start = np.r_[0, np.cumsum(sizes)[:-1]]
    values, sums = np.empty(n), np.empty((4, 5))
    is01, bad = np.empty(4, dtype=bool), np.empty((4, 2), dtype=np.int64)
    K.arm_sums(y, x, order, start, sizes, values, sums, is01, bad)
    assert np.array_equal(values, y[order])
    for a in range(4):
        yy = y[order][start[a]:start[a] + sizes[a]]
        xx = x[order][start[a]:start[a] + sizes[a]]
        want = [math.fsum(yy), math.fsum(yy * yy), math.fsum(xx), math.fsum(xx * xx),
                math.fsum(xx * yy)]
        finite = np.isfinite(want)
        np.testing.assert_allclose(sums[a][finite], np.array(want)[finite], rtol=1e-12)
        assert is01[a] == bool(np.isin(yy, (0.0, 1.0)).all())
        assert bad[a].tolist() == [int((~np.isfinite(yy)).sum()), int((~np.isfinite(xx)).sum())]
    # without a covariate the covariate sums are zero and nothing is counted bad
    K.arm_sums(y, np.zeros(0), order, start, sizes, values, sums, is01, bad)
    assert (sums[:, 2:] == 0).all() and (bad[:, 1] == 0).all()


def _sorted_walk(x, y):
    values = np.concatenate([np.sort(x), np.sort(y)])
    u1, tie = np.empty(1), np.empty(1)
    n1 = x.size
    KR.mwu_sorted(values, np.array([0]), np.array([n1]), np.array([n1]),
                  np.array([values.size]), np.zeros(1, dtype=bool), np.array([0, 1]), u1, tie)
    return u1[0], tie[0]


def test_two_valued_mann_whitney_has_the_bits_of_the_sorted_walk():
    rng = np.random.default_rng(SEED)
    cases = [(0, 5, 0, 7), (5, 0, 7, 0), (5, 0, 0, 7), (0, 5, 7, 0), (3, 4, 0, 6), (3, 0, 2, 5)]
    cases += [tuple(int(k) for k in rng.integers(0, 40, 4)) for _ in range(300)]
    cases = [c for c in cases if c[0] + c[1] and c[2] + c[3]]
    x_up = np.array([c[1] for c in cases])
    x_n = np.array([c[0] + c[1] for c in cases])
    y_up = np.array([c[3] for c in cases])
    y_n = np.array([c[2] + c[3] for c in cases])
    u1, tie = np.empty(len(cases)), np.empty(len(cases))
    KR.mwu_two_values(x_up, x_n, y_up, y_n, u1, tie)
    for k, (a, b, c, d) in enumerate(cases):
        x = np.r_[np.zeros(a), np.ones(b)]
        y = np.r_[np.zeros(c), np.ones(d)]
        assert (u1[k], tie[k]) == _sorted_walk(x, y), (a, b, c, d)


def _chunk(rng, n_exp=12, binary_share=0.5):
    """A chunk of unit rows: per experiment a control and one or two treatments."""
    ids, variants, rev, conv = [], [], [], []
    for e in range(n_exp):
        for v in ("control", "b", "c")[: 2 + e % 2]:
            n = int(rng.integers(3, 60))
            ids += [e * 10] * n
            variants += [v] * n
            rev += rng.lognormal(size=n).round(1).tolist()  # ties
            conv += (rng.random(n) < binary_share).astype(float).tolist()
    order = rng.permutation(len(ids))  # units of an experiment interleave their arms
    blocks = np.argsort(np.array(ids)[order], kind="stable")
    order = order[blocks]
    t = pa.table({"experiment_id": pa.array(np.array(ids)[order], pa.int64()),
                  "variant": _variant_codes(pa.array(np.array(variants)[order])),
                  "conversion": np.array(conv)[order], "revenue": np.array(rev)[order]})
    layout = UnitLayout("int64", ("conversion", "revenue"), (None, None), frozenset())
    return t, layout


def test_mann_whitney_of_a_chunk_is_the_public_function_per_row():
    rng = np.random.default_rng(SEED)
    t, layout = _chunk(rng)
    uc = aggregate_chunk(t, lambda r: ("f", r + 1), layout=layout, spec={}, control="control",
                         errors="raise")
    rows = [(e, j, a) for e in range(uc.experiment_ids.__len__()) for j in range(2)
            for a in np.flatnonzero(uc.arm_experiment == e) if a != uc.control_arm[e]]
    metric = np.array([r[1] for r in rows])
    arm = np.array([r[2] for r in rows])
    ctl = uc.control_arm[np.array([r[0] for r in rows])]
    for alternative in ("two-sided", "less", "greater"):
        p = _mannwhitney(uc, metric, arm, ctl, alternative)

        def arm_values(j, a):
            return uc.values[j][uc.arm_start[a]:uc.arm_start[a] + uc.arm_size[a]]

        xs = Ragged.from_arrays([arm_values(j, a) for j, a in zip(metric, arm, strict=True)])
        ys = Ragged.from_arrays([arm_values(j, c) for j, c in zip(metric, ctl, strict=True)])
        want = mannwhitneyu(xs, ys, alternative=alternative).pvalue
        assert np.array_equal(p, want)  # the same bits, sorted or counted
        for k in range(0, len(rows), 5):
            ref = stats.mannwhitneyu(xs[k], ys[k], alternative=alternative).pvalue
            assert p[k] == pytest.approx(ref, rel=1e-12, abs=1e-300)
    assert any(uc.arm_binary[0]) and not any(uc.arm_binary[1])


def _run_codes(col):
    return experiment_codes(pa.table({"experiment_id": col}), lambda r: ("f", r + 1),
                            clustered=False)


def test_run_codes_match_dictionary_codes():
    ids = pa.array([5, 5, 3, 3, 3, 9], pa.int64())
    codes, distinct = _run_codes(ids)
    assert codes.tolist() == [0, 0, 1, 1, 1, 2] and distinct.to_pylist() == [5, 3, 9]
    for col in (pa.array([5, 3, 5, 9], pa.int64()), pa.array(["b", "a", "b"])):
        codes, distinct = _run_codes(col)  # an id in two runs, or strings: encoded
        want, dictionary, _ = _codes(col)
        assert codes.tolist() == want.tolist() and distinct.equals(dictionary)


def test_variant_codes_are_distinct_non_null_strings():
    dup = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, None], pa.int8()),
                                         pa.array(["a", "b", "a"]))
    out = _variant_codes(dup)
    assert out.type == pa.dictionary(pa.int32(), pa.string())
    assert out.dictionary.to_pylist() == ["a", "b"] and out.to_pylist() == ["a", "b", "a", None]
    assert _variant_codes(pa.array([2, 1, 2])).to_pylist() == ["2", "1", "2"]


def test_trailing_start_scans_pieces_from_the_end():
    t = pa.concat_tables([pa.table({"experiment_id": pa.array(v, pa.int64())})
                          for v in ([1, 1, 2], [2, 2], [], [2])])
    assert S._trailing_start(t) == 2
    assert S._trailing_start(pa.table({"experiment_id": pa.array([4, 4], pa.int64())})) == 0
    t = pa.concat_tables([pa.table({"experiment_id": pa.array(v, pa.int64())})
                          for v in ([1, 2], [3, 3])])
    assert S._trailing_start(t) == 2


def test_prefetched_yields_in_order_and_raises_the_producers_error():
    assert list(S._prefetched(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise ValueError("bad batch")

    got = []
    with pytest.raises(ValueError, match="bad batch"):
        for item in S._prefetched(failing()):
            got.append(item)
    assert got == [1]
    produced = []

    def endless():
        k = 0
        while True:
            produced.append(k)
            yield k
            k += 1

    for item in S._prefetched(endless()):
        if item == 3:
            break  # the producer stops: at most the queue's depth ahead
    assert len(produced) <= 6


def test_reuse_heap_restores():
    restore = S._reuse_heap()
    np.ones(1 << 22).sum()
    restore()


def _sort_in_child(q):
    rng = np.random.default_rng(1)
    v = rng.random(400_000)
    lo = np.arange(0, 400_000, 1000)
    _sort_segments(v, lo, lo + 1000)
    q.put(bool(all((np.diff(v[a:a + 1000]) >= 0).all() for a in lo)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork only")
def test_sort_pool_works_after_fork():
    v = np.random.default_rng(0).random(400_000)
    lo = np.arange(0, 400_000, 1000)
    _sort_segments(v, lo, lo + 1000)  # the parent's pool exists before the fork
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    proc = ctx.Process(target=_sort_in_child, args=(q,))
    proc.start()
    assert q.get(timeout=60) is True
    proc.join(60)


@pytest.mark.parametrize("n_columns", [1, 2, 3])
def test_poisson_group_sums_in_any_blocks_equal_one_task_at_a_time(n_columns):
    """Any cut of the tasks into blocks, columns in pairs: the bits of single tasks."""
    from fastinf.kernels import bootstrap as KB

    rng = np.random.default_rng(SEED + n_columns)
    n_resamples = 5
    sizes = np.array([0, 1, 2, 7, 30, 31])
    off = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    x = rng.lognormal(size=(n_columns, off[-1]))
    keys = rng.integers(1, 2**62, sizes.size).astype(np.uint64)
    first = np.array([0, 1, 3, 4, 5, 0], dtype=np.int64)
    centres = rng.normal(size=(sizes.size, n_columns))
    seed = np.uint64(SEED)
    n_tasks = sizes.size * n_resamples
    want = np.empty((sizes.size, n_resamples, n_columns, 3))
    for g in range(sizes.size):
        for b in range(n_resamples):
            key = np.uint64(KB.stream_key(seed, keys[g], b))
            for m in range(n_columns):
                KB._poisson_one(x, m, off[g], sizes[g], centres[g, m], first[g], key, want, g, b)
    for _ in range(5):
        inner = np.sort(rng.integers(0, n_tasks + 1, rng.integers(0, 6)))
        blocks = np.r_[0, inner, n_tasks].astype(np.int64)
        got = np.full_like(want, np.nan)
        KB.poisson_group_sums(x, off, keys, first, centres, seed, n_resamples, blocks, got)
        assert got.tobytes() == want.tobytes()


def test_no_concurrent_kernels_under_the_workqueue_layer(tmp_path):
    """Workqueue aborts on two concurrent parallel launches: the run stays in one thread."""
    import subprocess
    import sys

    code = (
        "import numpy as np, pyarrow as pa, pyarrow.parquet as pq\n"
        "from fastinf import _streaming as S\n"
        "from fastinf.reanalyze import reanalyze\n"
        "assert S._kernels_concurrent() is False\n"
        "rng = np.random.default_rng(0)\n"
        "n = 4000\n"
        "e = np.repeat(np.arange(40), n // 40)\n"
        "t = pa.table({'experiment_id': e, 'variant': np.where(np.arange(n) % 2, 'b', "
        "'control'), 'revenue': rng.lognormal(size=n)})\n"
        f"pq.write_table(t, {str(tmp_path / 'u.parquet')!r}, row_group_size=500)\n"
        f"s = reanalyze({str(tmp_path / 'u.parquet')!r}, {str(tmp_path / 'o.parquet')!r}, "
        "chunk_rows=500, bootstrap='poisson', n_resamples=19, progress=False)\n"
        "assert s.output_rows == 40\n"
    )
    env = {**os.environ, "NUMBA_THREADING_LAYER": "workqueue"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
