"""Streaming an archive for ``fastinf reanalyze``: chunks of whole experiments, atomic output.

:func:`_chunks` cuts the batches of an archive into chunks of whole
experiments (an experiment straddling a batch is carried into the next
chunk); :class:`_SeenIds` remembers the experiments already processed, to
catch an archive that is not clustered by experiment; :class:`_Output`
writes under a temporary name and renames when complete, so an interrupted
run leaves no partial output.
"""

from __future__ import annotations

import os
import queue
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from fastinf.archive import ArchiveError, Layout, Source, iter_batches
from fastinf.progress import Progress


class _SeenIds:
    """The experiment ids already processed: sorted int64 runs merged like an LSM tree.

    Integer ids are kept as themselves; string ids as their 64-bit hash (a
    false "seen again" needs a hash collision: odds about ``n**2 / 2**65``).
    8 bytes per experiment.
    """

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    @staticmethod
    def keys(ids: Any) -> np.ndarray:
        import pyarrow as pa

        if pa.types.is_integer(ids.type):
            return np.asarray(ids.to_numpy(), dtype=np.int64)
        return np.fromiter(map(hash, ids.to_pylist()), dtype=np.int64, count=len(ids))

    def first_seen(self, ids: Any) -> int:
        """Index of the first of ``ids`` seen before (-1: none); then remember them all."""
        keys = self.keys(ids)
        hit = np.zeros(keys.size, dtype=bool)
        for level in self.levels:
            i = np.minimum(np.searchsorted(level, keys), level.size - 1)
            hit |= level[i] == keys
        new = np.unique(keys)
        self.levels.append(new)
        while len(self.levels) > 1 and self.levels[-2].size <= 2 * self.levels[-1].size:
            last = self.levels.pop()
            self.levels[-1] = np.union1d(self.levels[-1], last)
        return int(np.argmax(hit)) if hit.any() else -1


def _trailing_start(table: Any) -> int:
    """Row where the last experiment of ``table`` begins (its rows may continue).

    Scans the id column's pieces from the end, so that only the last
    experiment's rows (and the piece they start in) are compared.
    """
    import pyarrow.compute as pc

    ids = table.column("experiment_id")
    last = ids[len(ids) - 1]
    end = len(ids)
    for piece in reversed(ids.chunks):
        end -= len(piece)
        n = len(piece)
        if not n:
            continue
        # Windows growing from the end: the last experiment is usually short.
        k = 4096
        while True:
            lo = max(0, n - k)
            window = piece.slice(lo)
            other = np.asarray(pc.not_equal(window, last).to_numpy(zero_copy_only=False),
                               dtype=bool)
            idx = np.flatnonzero(other)
            if idx.size:
                return end + lo + int(idx[-1]) + 1
            if lo == 0:
                break
            k *= 4
    return 0


_END = object()
_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_GLIBC_DEFAULT = 128 * 1024


def _reuse_heap() -> Any:
    """Keep freed memory for reuse during a run (glibc); returns the function that undoes it.

    Every chunk allocates dozens of NumPy arrays of a few MiB and frees them.
    glibc serves such blocks from fresh ``mmap`` pages (or trims them off the
    heap when freed), so each chunk paid a page fault per 4 KiB touched: a
    third of a 50 M-row run went to the kernel (system time). With a 32 MiB
    ``mmap`` threshold (glibc's maximum) and no trimming, a freed block is
    reused by the next chunk. The restore function puts glibc's default
    thresholds back and returns the memory to the system (``malloc_trim``).
    Elsewhere than glibc, nothing is changed.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return lambda: None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (not musl)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    trim.argtypes = [ctypes.c_size_t]
    mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
    mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)

    def restore() -> None:
        mallopt(_M_MMAP_THRESHOLD, _GLIBC_DEFAULT)
        mallopt(_M_TRIM_THRESHOLD, 2 * _GLIBC_DEFAULT)
        trim(0)

    return restore


def _prefetched(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """``items``, produced ``depth`` ahead in a background thread.

    Reading and decoding the next batch (Arrow releases the GIL) overlaps
    with the analysis of the current one, much of which runs on one core.
    An exception of the producer is raised here; when the consumer stops
    early, the producer stops at its next item.
    """
    q: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            put((False, exc))

    thread = threading.Thread(target=produce, name="fastinf-read", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def _kernels_concurrent() -> bool:
    """Whether two Python threads may run Numba's parallel kernels at once.

    True for the OpenMP and TBB threading layers; the workqueue layer
    aborts the process when a second thread launches a parallel kernel.
    """
    import numba

    try:
        from numba.np.ufunc import parallel

        parallel._launch_threads()  # settles the layer, as a first kernel would
        return numba.threading_layer() in ("omp", "tbb")
    except (ImportError, AttributeError, ValueError):
        return False


def _chunks(
    sources: Sequence[Source], layout: Layout, chunk_rows: int, on_batch: Any
) -> Iterator[tuple[Any, list[tuple[int, int, int]]]]:
    """Chunks of whole experiments: ``(table, pieces)``.

    ``pieces`` are ``(first chunk row, source index, its row in the source)``
    for each run of rows from one source.
    """
    import pyarrow as pa

    pending: list[Any] = []
    pieces: list[tuple[int, int, int]] = []
    rows = 0
    source_row = [0] * len(sources)
    # Batches of a chunk's size: Arrow's Parquet reader slows down several
    # times over when a row group is cut into small batches.
    for batch, si, done in _prefetched(iter_batches(sources, layout, max(1, chunk_rows))):
        k = batch.num_rows
        on_batch(k, done)
        if k == 0:
            continue
        pieces.append((rows, si, source_row[si]))
        source_row[si] += k
        pending.append(batch)
        rows += k
        if rows < chunk_rows:
            continue
        table = pa.concat_tables(pending)
        cut = _trailing_start(table)
        if cut == 0:  # one experiment so far: keep reading
            continue
        ends = [p[0] for p in pieces[1:]] + [rows]
        head = [p for p in pieces if p[0] < cut]
        tail = [(max(s, cut) - cut, i, r + max(cut - s, 0))
                for (s, i, r), end in zip(pieces, ends, strict=True) if end > cut]
        yield table.slice(0, cut), head
        rest = table.slice(cut).combine_chunks()
        pending, pieces, rows = [rest], tail, rest.num_rows
    if rows:
        yield pa.concat_tables(pending), pieces


def _locator(sources: Sequence[Source], pieces: list[tuple[int, int, int]]) -> Any:
    starts = np.array([p[0] for p in pieces], dtype=np.int64)

    def where(row: int) -> tuple[str, int]:
        i = int(np.searchsorted(starts, row, side="right")) - 1
        s, si, r = pieces[i]
        return sources[si].path, r + row - s + 1

    return where


class _Output:
    """An output file written under a temporary name and renamed when complete."""

    def __init__(self, path: str, fmt: str, schema: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        folder, name = os.path.split(os.path.abspath(path))
        self.path = path
        self.tmp = os.path.join(folder, f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            # Dictionary-encode the string columns only: trying it on the float
            # columns costs more than the rest of the write.
            strings = [f.name for f in schema if f.type == "string"]
            self.writer: Any = (pq.ParquetWriter(self.tmp, schema, use_dictionary=strings)
                                if fmt == "parquet" else pacsv.CSVWriter(self.tmp, schema))
        except OSError as exc:
            self._remove()
            raise ArchiveError(f"{path}: cannot write the output ({exc}).") from None

    def write(self, table: Any) -> None:
        self.writer.write_table(table)

    def commit(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: S110 - already failing; the file is removed next
            pass
        self._remove()

    def _remove(self) -> None:
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


def _write_skipped(path: str, bad: list[tuple[Any, str, str]]) -> None:
    import pyarrow as pa

    table = pa.table({
        "experiment_id": pa.array([str(b[0]) for b in bad], pa.string()),
        "reason": pa.array([b[1] for b in bad], pa.string()),
        "file": pa.array([b[2] for b in bad], pa.string()),
    })
    out = _Output(path, "csv", table.schema)
    try:
        out.write(table)
        out.commit()
    except BaseException:
        out.abort()
        raise


def _make_progress(progress: Any, total: float) -> Progress:
    if isinstance(progress, Progress):
        progress.total = total if progress.total is None else progress.total
        return progress
    if progress is None:
        return Progress(total)
    return Progress(total, enabled=bool(progress))
