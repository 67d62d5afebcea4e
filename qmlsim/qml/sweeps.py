"""Experiment sweeps run here or as tasks on a Dask scheduler, results in the order of the calls.

>>> run_sweep([(pow, (2, 3)), (pow, (3, 2))], progress=False)
[8, 9]
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["run_sweep"]


def run_sweep(calls: Sequence[tuple[Callable, tuple]], scheduler: str | None = None, label: str = "sweep",
              progress: bool = True) -> list[Any]:
    """``[fn(*args) for fn, args in calls]``, locally or as one Dask task per call.

    Args:
        calls: ``(function, arguments)`` pairs; with a scheduler the functions must be
            importable on the workers (module-level functions of qmlsim).
        scheduler: a Dask scheduler address (``tcp://host:8786``), or ``None`` to run here.
        label: the progress bar's label.
        progress: show a tqdm bar counting finished calls.

    Returns:
        The results, in the order of ``calls`` (the scheduler keeps finished ones until gathered).
    """
    bar = None
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        bar = tqdm(total=len(calls), desc=label)
    try:
        if scheduler is None:
            results = []
            for fn, args in calls:
                results.append(fn(*args))
                if bar is not None:
                    bar.update(1)
            return results
        from distributed import as_completed  # noqa: PLC0415

        from qmlsim.simulators.executors.dask_executor import connect  # noqa: PLC0415

        client = connect(scheduler)
        try:
            futures = [client.submit(fn, *args, pure=False) for fn, args in calls]
            for _ in as_completed(futures, loop=client.loop):
                if bar is not None:
                    bar.update(1)
            return client.gather(futures)
        finally:
            client.close()
    finally:
        if bar is not None:
            bar.close()
