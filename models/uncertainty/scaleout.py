"""Running a sweep's draws on a Dask cluster (the third stage): batches, one evaluator per worker.

:func:`run_sweep` draws every input in this process (:func:`~models.uncertainty.draws.draw_inputs`,
seeded), cuts the table into batches of ``batch_size`` draws and sends one task per batch. A task
carries the :class:`~models.uncertainty.evaluate.SweepSpec` and its batch of draws (plain numbers):
cvxpy problems do not pickle, so each worker process builds its
:class:`~models.uncertainty.evaluate.Evaluator` (calibration and models) **once**, at its first
task, and keeps it in a per-process cache keyed by the spec (:func:`evaluate_batch`). Every draw is
history-free (see :mod:`models.uncertainty.evaluate`), so the table is the same whatever the
number of workers, the batch size or the order in which batches finish: rows are sorted by
``draw`` at the end.

Where it runs:

* ``scheduler=None`` (default): a local cluster of ``n_workers`` processes (one thread each, the
  solver is single-threaded; Dask's statistical profiler off), started and closed by the call. Worker processes inherit this
  process's environment, ``PYTHONPATH`` included.
* ``scheduler="tcp://host:8786"``: an existing cluster, unchanged; its workers must be able to
  import ``models`` (the same package and data).
* ``n_workers=0``: no Dask at all, the serial loop of
  :func:`~models.uncertainty.evaluate.run_serial` (the reference).

A progress bar (tqdm) counts draws as batches finish.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time

import pandas as pd

from ..errors import ModelInputError
from .draws import draw_inputs
from .evaluate import Evaluator, SweepSpec, register_verdicts, run_serial, tidy

#: Evaluators of this process, by spec key (a worker builds each once).
_EVALUATORS: dict = {}
#: Default number of draws per task: large enough that Dask's per-task cost (~1 ms) is small
#: against the solves, small enough that two workers share the tail of a 1,000-draw sweep.
BATCH_SIZE = 50


def evaluator_for(spec: SweepSpec) -> Evaluator:
    """This process's :class:`Evaluator` of ``spec`` (built at the first call, then reused)."""
    key = spec.key()
    ev = _EVALUATORS.get(key)
    if ev is None:
        ev = _EVALUATORS[key] = Evaluator(spec)
    return ev


def evaluate_batch(spec: SweepSpec, draws: list[dict]) -> list[dict]:
    """One task: evaluate a batch of draws with this process's cached evaluator."""
    ev = evaluator_for(spec)
    return [ev.evaluate(row) for row in draws]


def _batches(draws: pd.DataFrame, size: int) -> list[list[dict]]:
    records = draws.to_dict("records")
    return [records[i:i + size] for i in range(0, len(records), size)]


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int):
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:        # refused, silent, or not an address
            raise ModelInputError("scheduler", scheduler, f"the address of a running Dask scheduler ({exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask
    # Dask's statistical profiler samples each worker's task thread every 10 ms; on one-solve draws
    # it costs a worker about 0.3-0.4 ms of CPU a draw (of ~3 ms), so the local cluster runs without
    # it (an existing cluster keeps its own settings).
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def run_sweep(spec: SweepSpec, n_workers: int | None = None, scheduler: str | None = None,
              batch_size: int = BATCH_SIZE, progress: bool = True, timings: dict | None = None) -> pd.DataFrame:
    """The sweep's table (one row per draw), computed on Dask.

    Parameters
    ----------
    spec : SweepSpec
    n_workers : int, optional
        Worker processes of the local cluster (default: the CPUs of this machine); 0 runs the
        serial loop in this process. Ignored with ``scheduler``.
    scheduler : str, optional
        Address of an existing Dask scheduler.
    batch_size : int
        Draws per task at most (fewer when that would leave less than four tasks a worker).
    progress : bool
        Show a progress bar.
    timings : dict, optional
        Filled with ``startup`` (cluster start, s) and ``compute`` (draws, s).
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ModelInputError("batch_size", batch_size, "a positive integer")
    if n_workers is None:
        n_workers = os.cpu_count() or 1
    if not isinstance(n_workers, int) or n_workers < 0:
        raise ModelInputError("workers", n_workers, "a non-negative integer (0: no Dask)")
    if scheduler is None and n_workers == 0:
        start = time.perf_counter()
        table = run_serial(spec, progress=progress)
        if timings is not None:
            timings.update(startup=0.0, compute=time.perf_counter() - start)
        return table
    from distributed import as_completed
    from ..data import load_dataset
    ds = load_dataset()
    ranges = Evaluator.ranges_for(spec, ds)
    draws = draw_inputs(ranges, spec.draws, spec.seed, spec.vary, spec.by_region)
    start = time.perf_counter()
    with _client(scheduler, n_workers) as client:
        ready = time.perf_counter()
        # at least four tasks a worker, so that no worker idles at the end (batches never change
        # the results: every draw is history-free)
        workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        size = max(1, min(batch_size, -(-len(draws) // (4 * workers))))
        batches = _batches(draws, size)
        futures = [client.submit(evaluate_batch, spec, batch, pure=False) for batch in batches]
        rows: list[dict] = []
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=len(draws), desc=f"{spec.mineral}: draws", unit="draw")
        try:
            for future in as_completed(futures):
                done = future.result()
                rows.extend(done)
                if bar is not None:
                    bar.update(len(done))
        finally:
            if bar is not None:
                bar.close()
        end = time.perf_counter()
    if timings is not None:
        timings.update(startup=ready - start, compute=end - ready)
    return tidy(rows, spec, register_verdicts(ds))
