"""fastinf.dask: the Dask engine on a real 2-process LocalCluster against the local engine."""

import glob
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from fastinf import dask as FD  # noqa: E402
from fastinf.archive import ArchiveError  # noqa: E402
from fastinf.reanalyze import reanalyze, reanalyze_table  # noqa: E402
from fastinf.units import arm_keys, poisson_difference_interval, poisson_sums  # noqa: E402

SEED = 0x5EED_0DA5_0003
METRICS = (("conv", "binomial"), ("revenue", "mean"), ("m_b", "mean"), ("a_late", "binomial"))


def _archive(rng, E, big=None):
    """Sufficient statistics of E experiments (2-4 arms, 2-4 metrics), clustered by experiment.

    Experiment ``big`` (if given) has 4 metrics x 4 arms in 40 copies of
    metric names, so that it spans several partitions on its own.
    """
    rows = {k: [] for k in ("experiment_id", "metric", "variant", "metric_type")}
    for e in range(E):
        A = int(rng.integers(2, 5))
        ms = list(METRICS[: int(rng.integers(2, 5))])
        if e == big:
            ms = [(f"{m}_{k:02d}", t) for k in range(40) for m, t in METRICS]
        for m, t in ms:
            for a in rng.permutation(A):  # any order inside an experiment
                rows["experiment_id"].append(f"e{e:04d}")
                rows["metric"].append(m)
                rows["variant"].append("control" if a == 0 else f"t{a}")
                rows["metric_type"].append(t)
    k = len(rows["metric"])
    n = rng.integers(50, 5_000, k).astype(float)
    binom = np.array([t == "binomial" for t in rows["metric_type"]])
    succ = rng.binomial(n.astype(np.int64), rng.uniform(0.1, 0.3, k)).astype(float)
    mean = rng.normal(10.0, 0.2, k)
    var = rng.uniform(1.0, 4.0, k)
    s = np.where(binom, succ, n * mean)
    ss = np.where(binom, succ, (n - 1) * var + n * mean**2)
    return pa.table({**rows, "n": n, "sum": s, "sum_sq": ss})


@pytest.fixture(scope="module")
def client():
    """The engine's own local cluster: 2 worker processes, 1 Python thread each."""
    with FD._client(None, 2, 1, 10.0) as c:
        yield c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A Parquet archive in 3 files with small row groups: experiments straddle partitions."""
    d = tmp_path_factory.mktemp("dask")
    table = _archive(np.random.default_rng(SEED), 120, big=7)
    n = table.num_rows
    cuts = [0, n // 3 + 1, 2 * n // 3 + 2, n]  # not at experiment boundaries
    for i in range(3):
        pq.write_table(table.slice(cuts[i], cuts[i + 1] - cuts[i]),
                       os.path.join(d, f"part{i}.parquet"), row_group_size=53)
    return str(d), table


def _same(a, b):
    """Identical tables: same columns, rows, order and values (NaN equal to NaN)."""
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    for name in a.schema.names:
        x, y = a.column(name).to_pylist(), b.column(name).to_pylist()
        if pa.types.is_floating(a.schema.field(name).type):
            np.testing.assert_array_equal(np.array(x, dtype=float), np.array(y, dtype=float),
                                          err_msg=name)
        else:
            assert x == y, name


@pytest.mark.parametrize("family,correction", [
    ("experiment", "fdr_bh"), ("experiment-treatment", "holm"), ("metric", "fdr_bh"),
    ("all", "hommel"), ("metric", None),
])
def test_files_identical_to_local_engine(client, folder, tmp_path, family, correction):
    """Every family, incl. the archive-wide ones corrected across partitions: bit for bit.

    chunk_rows=60 with row groups of 53 rows: partitions of 2 row groups,
    about 50 partitions, the big experiment spanning several of them.
    """
    src, _ = folder
    kw = dict(family=family, correction=correction, chunk_rows=60)
    local = reanalyze(src, tmp_path / "local.parquet", progress=False, **kw)
    mine = FD.reanalyze_dask(src, tmp_path / "dask.parquet", scheduler=client, progress=False, **kw)
    _same(pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "dask.parquet"))
    for name in ("rows_read", "experiments", "metrics", "output_rows", "significant", "ship",
                 "decisions"):
        assert getattr(mine, name) == getattr(local, name), name
    assert not glob.glob(str(tmp_path / ".*.tmp"))  # the temporary file was renamed


def test_csv_and_skip_identical(client, tmp_path):
    """CSV input (one partition per file) and errors='skip': the same output and skip list."""
    table = _archive(np.random.default_rng(SEED + 1), 40)
    n = table.column("n").to_numpy().copy()
    n[[5, 200]] = -1.0  # two bad experiments
    table = table.set_column(table.schema.get_field_index("n"), "n", pa.array(n))
    for i, (a, b) in enumerate([(0, 130), (130, table.num_rows)]):
        pacsv.write_csv(table.slice(a, b - a), tmp_path / f"f{i}.csv")
    os.makedirs(tmp_path / "out")
    local = reanalyze(tmp_path, tmp_path / "out" / "l.csv", errors="skip", progress=False)
    mine = FD.reanalyze_dask(str(tmp_path / "f*.csv"), tmp_path / "out" / "d.csv",
                             errors="skip", scheduler=client, progress=False)
    assert mine.skipped_experiments == local.skipped_experiments == 2
    assert (tmp_path / "out" / "d.csv").read_bytes() == (tmp_path / "out" / "l.csv").read_bytes()
    assert ((tmp_path / "out" / "d.csv.skipped.csv").read_bytes()
            == (tmp_path / "out" / "l.csv.skipped.csv").read_bytes())


def test_errors_as_the_local_engine(client, folder, tmp_path):
    """A bad value and an experiment met again in a later partition: the local messages."""
    _, table = folder
    n = table.column("n").to_numpy().copy()
    n[1300] = 1.5
    bad = table.set_column(table.schema.get_field_index("n"), "n", pa.array(n))
    pq.write_table(bad, tmp_path / "bad.parquet", row_group_size=53)
    again = pa.concat_tables([table, table.slice(0, 12)])
    pq.write_table(again, tmp_path / "again.parquet", row_group_size=53)
    for name, match in (("bad", "is not a whole number"), ("again", "appears again after")):
        src = tmp_path / f"{name}.parquet"
        with pytest.raises(ArchiveError, match=match) as want:
            reanalyze(src, tmp_path / "l.parquet", chunk_rows=60, progress=False)
        with pytest.raises(ArchiveError, match=match) as got:
            FD.reanalyze_dask(src, tmp_path / "d.parquet", chunk_rows=60, scheduler=client,
                              progress=False)
        assert str(got.value) == str(want.value)
    assert not os.path.exists(tmp_path / "d.parquet")


def test_dataframe_entry(client, folder):
    """A dask DataFrame: clustered partitions, and unclustered rows shuffled by experiment."""
    _, table = folder
    df = table.to_pandas()
    ddf = dd.from_pandas(df, npartitions=7, sort=False)
    for family in ("experiment", "all"):
        _same(FD.analyze_dataframe(ddf, scheduler=client, family=family),
              reanalyze_table(table, family=family))
    shuffled = df.sample(frac=1.0, random_state=3).reset_index(drop=True)
    sddf = dd.from_pandas(shuffled, npartitions=5, sort=False)
    want = reanalyze_table(pa.Table.from_pandas(shuffled, preserve_index=False), family="metric")
    _same(FD.analyze_dataframe(sddf, scheduler=client, clustered=False, family="metric"), want)


def test_own_local_cluster_and_address(client, folder, tmp_path):
    """scheduler=None starts (and closes) a LocalCluster; an address connects to one."""
    src, _ = folder
    reanalyze(src, tmp_path / "l.parquet", family="all", progress=False)
    FD.reanalyze_dask(src, tmp_path / "a.parquet", family="all", n_workers=2, progress=False)
    FD.reanalyze_dask(src, tmp_path / "b.parquet", family="all",
                      scheduler=client.scheduler.address, progress=False)
    want = pq.read_table(tmp_path / "l.parquet")
    _same(pq.read_table(tmp_path / "a.parquet"), want)
    _same(pq.read_table(tmp_path / "b.parquet"), want)


def test_threads_applied_and_layer_safe(client):
    """Both worker processes run a parallel kernel with their share of threads, safe layer."""
    plan = FD._thread_plan(client)
    workers = sorted(plan)
    assert len(workers) == 2
    cores = client.run(FD._cores)
    states = client.gather([client.submit(FD._call, FD._numba_state, plan, workers=[w],
                                          pure=False) for w in workers])
    assert len({s["pid"] for s in states}) == 2  # two processes
    for w, s in zip(workers, states, strict=True):
        assert s["threads"] == FD.worker_numba_threads(cores[w], 2) == plan[w]
        assert s["layer"] == FD.safe_threading_layer() == s["env_layer"]


def test_threads_formula_and_context():
    import numba

    assert FD.worker_numba_threads(16, 2) == 8
    assert FD.worker_numba_threads(16, 3, 2) == 2
    assert FD.worker_numba_threads(2, 4) == 1
    before = numba.get_num_threads()
    with FD._numba_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_two_python_threads_per_worker_do_not_crash():
    """Several parallel kernels at once in one worker with 2 threads (the lock or tbb)."""
    with FD._client(None, 1, 2, 10.0) as c:
        plan = FD._thread_plan(c)
        states = c.gather([c.submit(FD._call, FD._numba_state, plan, pure=False)
                           for _ in range(6)])
    assert {s["layer"] for s in states} == {FD.safe_threading_layer()}


def _units(rng, E):
    rows = []
    for e in range(E):
        for v, n in (("control", int(rng.integers(30, 80))), ("b", int(rng.integers(30, 80))),
                     ("a", int(rng.integers(30, 80)))):
            rows.append(pd.DataFrame({
                "experiment_id": f"x{e}", "variant": v,
                "clicks": rng.binomial(1, 0.3, n).astype(float),
                "spend": rng.lognormal(1.0, 0.7, n) + (0.2 if v == "b" else 0.0)}))
    df = pd.concat(rows, ignore_index=True)
    return df.sample(frac=1.0, random_state=7).reset_index(drop=True)  # arms over partitions


def test_poisson_bootstrap_equals_single_machine(client):
    """Arms spread over 6 partitions: the single-piece Poisson sums with the same seed.

    The reference sums each whole arm in one call of poisson_sums (one
    machine, one piece). Counts add exactly, so the 0/1 metric's interval is
    bit-identical; the continuous metric's sums add up to rounding (a few
    ulps of sums of ~100 terms), so its interval agrees to 1e-12 relative.
    """
    df = _units(np.random.default_rng(SEED + 2), 5)
    ddf = dd.from_pandas(df, npartitions=6, sort=False)
    got = FD.poisson_bootstrap_dataframe(ddf, ["spend", "clicks"], n_resamples=300, seed=11,
                                         scheduler=client, buckets=2)
    assert got.num_rows == 5 * 2 * 2
    ids = list(dict.fromkeys(df.experiment_id))  # in order of first appearance
    assert got.column("experiment_id").to_pylist() == [i for i in ids for _ in range(4)]
    assert got.column("metric").to_pylist()[:4] == ["clicks", "clicks", "spend", "spend"]
    assert got.column("variant").to_pylist()[:4] == ["a", "b", "a", "b"]
    for k, (e, m, v) in enumerate(zip(*(got.column(c).to_pylist()
                                        for c in ("experiment_id", "metric", "variant")),
                                      strict=True)):
        arms = [df.loc[(df.experiment_id == e) & (df.variant == a), m].to_numpy()
                for a in ("control", v)]
        sums = [poisson_sums(x, [0, x.size], arm_keys([e], a), None, 300, seed=11)
                for x, a in zip(arms, ("control", v), strict=True)]
        low, high = poisson_difference_interval(sums[0], sums[1])
        row = {c: got.column(c)[k].as_py() for c in FD.UNIT_COLUMNS}
        assert (row["control_n"], row["treatment_n"]) == (arms[0].size, arms[1].size)
        if m == "clicks":
            assert (row["ci_low"], row["ci_high"]) == (low[0], high[0])
        else:
            np.testing.assert_allclose([row["ci_low"], row["ci_high"]], [low[0], high[0]],
                                       rtol=1e-12)
        np.testing.assert_allclose(row["estimate"], arms[1].mean() - arms[0].mean(), rtol=1e-12)


def test_errors(client, folder, tmp_path):
    src, table = folder
    with pytest.raises(ArchiveError, match="cannot connect to the Dask scheduler at"):
        FD.reanalyze_dask(src, tmp_path / "o.parquet", scheduler="tcp://127.0.0.1:1",
                          connect_timeout=1.0, progress=False)
    with pytest.raises(ArchiveError, match="`scheduler` must be the address"):
        FD.reanalyze_dask(src, tmp_path / "o.parquet", scheduler=3, progress=False)
    with pytest.raises(ArchiveError, match="`n_workers` must be a positive integer"):
        FD.reanalyze_dask(src, tmp_path / "o.parquet", n_workers=0, progress=False)
    with pytest.raises(ArchiveError, match="unknown option 'familly' .did you mean 'family'"):
        FD.reanalyze_dask(src, tmp_path / "o.parquet", familly="all", scheduler=client)
    with pytest.raises(ArchiveError, match="no such file or folder"):
        FD.reanalyze_dask(tmp_path / "nothing", tmp_path / "o.parquet", scheduler=client)
    with pytest.raises(ArchiveError, match="`ddf` must be a dask.dataframe.DataFrame"):
        FD.analyze_dataframe(table, scheduler=client)
    ddf = dd.from_pandas(table.to_pandas(), npartitions=2)
    with pytest.raises(ArchiveError, match="pass a list as `skipped`"):
        FD.analyze_dataframe(ddf, scheduler=client, errors="skip")
    units = dd.from_pandas(_units(np.random.default_rng(1), 1), npartitions=2)
    with pytest.raises(ArchiveError, match="missing column 'spendd'"):
        FD.poisson_bootstrap_dataframe(units, ["spendd"], scheduler=client)
    with pytest.raises(ArchiveError, match="`n_resamples` must be a positive integer"):
        FD.poisson_bootstrap_dataframe(units, ["spend"], n_resamples=0, scheduler=client)


def _unit_archive(rng, E, big=3):
    """Unit rows clustered by experiment (arms interleaved), float metrics, a 0/1 one, CUPED.

    Experiment ``big`` has ~900 units, so that it spans several partitions
    on its own; the others 25-60 units per arm. Values are not whole numbers:
    equal sums mean the same additions in the same order, not exactness.
    """
    parts = []
    for e in range(E):
        k = 300 if e == big else int(rng.integers(25, 60))
        arms = ("control", "b", "a") if e % 3 else ("control", "b")
        v = np.repeat(np.array(arms, dtype=object), k)
        rng.shuffle(v)  # the arms' units interleaved inside the experiment
        n = v.size
        pre = rng.gamma(2.0, 10.0, n)
        parts.append(pd.DataFrame({
            "experiment_id": f"u{e:03d}", "variant": v,
            "spend": pre + rng.normal(0.0, 8.0, n) + 2.0 * (v == "b"),
            "pre_spend": pre, "conv": (rng.random(n) < 0.2 + 0.1 * (v == "a")).astype(float)}))
    return pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False)


@pytest.fixture(scope="module")
def unit_folder(tmp_path_factory):
    """Unit rows in 2 Parquet files, row groups of 97: experiments straddle partitions."""
    d = tmp_path_factory.mktemp("dask_units")
    table = _unit_archive(np.random.default_rng(SEED + 3), 24)
    cut = table.num_rows // 2 + 17  # not at an experiment boundary
    pq.write_table(table.slice(0, cut), os.path.join(d, "a.parquet"), row_group_size=97)
    pq.write_table(table.slice(cut), os.path.join(d, "b.parquet"), row_group_size=97)
    return str(d), table


@pytest.mark.parametrize("bootstrap,family", [
    ("poisson", "experiment"), ("poisson", "metric"), ("BCa", "experiment"),
    ("percentile", "all"),
])
def test_unit_level_files_identical_to_local_engine(client, unit_folder, tmp_path, bootstrap,
                                                    family):
    """Unit-level archive over 17 partitions (one experiment spans 4): every column bit for bit.

    The local engine reads chunks of 250 rows, the Dask engine partitions of
    2 row groups (194 rows), so the two cut the archive differently; each
    experiment is analysed whole on one side and the other, with the same
    additions in the same order (Welch/z/CUPED sums, the Mann-Whitney ranks),
    the same Poisson weights (keys of experiment, metric, variant; whole
    arms) and the same per-experiment seeds of the multinomial methods: so
    equality is exact, not to a tolerance.
    """
    src, _ = unit_folder
    kw = dict(bootstrap=bootstrap, n_resamples=199, seed=17, family=family)
    local = reanalyze(src, tmp_path / "l.parquet", chunk_rows=250, progress=False, **kw)
    mine = FD.reanalyze_dask(src, tmp_path / "d.parquet", chunk_rows=150, scheduler=client,
                             progress=False, **kw)
    want, got = pq.read_table(tmp_path / "l.parquet"), pq.read_table(tmp_path / "d.parquet")
    assert "mannwhitney_p_value" in got.schema.names
    assert np.isfinite(got.column("boot_ci_low").to_numpy()).all()
    _same(want, got)
    for name in ("rows_read", "experiments", "metrics", "output_rows", "significant",
                 "decisions", "bootstrap", "n_resamples", "seed"):
        assert getattr(mine, name) == getattr(local, name), name


def test_unit_level_dataframe_skip_and_errors(client, unit_folder, tmp_path):
    """A unit-level dask DataFrame, errors='skip', the local messages, and no shuffle."""
    _, table = unit_folder
    df = table.to_pandas()
    df.loc[5, "spend"] = np.nan  # experiment u000 is bad
    ddf = dd.from_pandas(df, npartitions=9, sort=False)
    skipped, want_skipped = [], []
    got = FD.analyze_dataframe(ddf, scheduler=client, errors="skip", skipped=skipped, seed=3)
    want = reanalyze_table(pa.Table.from_pandas(df, preserve_index=False), errors="skip",
                           skipped=want_skipped, seed=3)
    _same(want, got)
    assert [s[:2] for s in skipped] == [s[:2] for s in want_skipped]
    assert skipped[0][0] == "u000"
    with pytest.raises(ArchiveError, match="unit-level rows need clustered=True"):
        FD.analyze_dataframe(ddf, scheduler=client, clustered=False)
    bad = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), bad, row_group_size=97)
    with pytest.raises(ArchiveError, match="column 'spend' is null or NaN") as want_err:
        reanalyze(bad, tmp_path / "l.parquet", chunk_rows=250, progress=False)
    with pytest.raises(ArchiveError, match="column 'spend' is null or NaN") as got_err:
        FD.reanalyze_dask(bad, tmp_path / "d.parquet", chunk_rows=150, scheduler=client,
                          progress=False)
    assert str(got_err.value) == str(want_err.value)
    src, _ = unit_folder
    pq.write_table(_archive(np.random.default_rng(1), 3), tmp_path / "summary.parquet")
    mixed = tmp_path / "mixed"
    os.makedirs(mixed)
    for name in ("a.parquet", "b.parquet"):
        os.link(os.path.join(src, name), mixed / name)
    os.rename(tmp_path / "summary.parquet", mixed / "c.parquet")
    with pytest.raises(ArchiveError, match="the files mix unit-level rows and sufficient"):
        FD.reanalyze_dask(mixed, tmp_path / "d.parquet", scheduler=client, progress=False)
