"""Compiled kernels without the wait: build them in a separate process while the array kernels run.

On a machine where qmlsim's numba kernels were never compiled, compiling them takes
tens of seconds (once: they are cached in the user cache directory). A
``Simulator(kernels="auto")`` (the default) does not make its first call wait for that:
it starts one background process that compiles every kernel into the cache, runs the
array kernels meanwhile (the same results: the differential harness pits the paths
against each other), and takes the numba kernels as soon as the process has written
its ready marker. The background process outlives a short script, so the next run finds
the cache ready.

``kernels="numba"`` still compiles in place, and ``QMLSIM_COMPILE=inline`` restores
compile-on-first-use everywhere (what a benchmark or a latency-sensitive loop wants
after its first call).

    python -m qmlsim.simulators.fast.background     # compile now, in this process, and mark the cache ready
    python -m qmlsim.simulators.fast.background complex64     # one dtype only

:func:`build_in_parallel` compiles the dtypes in one process each (the test suite does
this once before its workers start, so that they do not each compile the same kernels).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

__all__ = [
    "compiled_kernels_ready",
    "marker_path",
    "start_background_build",
    "stop_background_build",
    "build",
    "build_in_parallel",
    "BUILD_ORDER",
]

# how often a Simulator looks for the ready marker while the background build runs
_CHECK_INTERVAL_S = 0.25
# the default dtype first: its kernels are ready about halfway through the build
BUILD_ORDER = ("complex128", "complex64")
_state = {"ready": set(), "last_check": {}, "process": None}


def _cache_dir() -> Path:
    from numba.core import config  # noqa: PLC0415

    if config.CACHE_DIR:
        return Path(config.CACHE_DIR)
    from numba.misc.appdirs import AppDirs  # noqa: PLC0415 - numba's own choice of user cache directory

    return Path(AppDirs(appname="numba", appauthor=False).user_cache_dir)


def _fingerprint() -> str:
    """Changes whenever numba would recompile: the kernel sources, numba, Python."""
    import numba  # noqa: PLC0415

    digest = hashlib.sha256(f"{numba.__version__} {sys.version}".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        stat = source.stat()
        digest.update(f"{source.name} {stat.st_mtime_ns} {stat.st_size}".encode())
    return digest.hexdigest()[:16]


def marker_path(dtype: str = "complex128") -> Path:
    """The file the build writes when every kernel of ``dtype`` is in the cache."""
    return _cache_dir() / f"qmlsim-kernels-{_fingerprint()}-{dtype}.ready"


def compiled_kernels_ready(dtype: str = "complex128") -> bool:
    """Whether the numba kernels of ``dtype`` load from the cache instead of compiling (checked at most every 0.25 s).

    Starts the background build the first time it finds them missing, unless
    ``QMLSIM_COMPILE=inline`` (then it answers ``True``: compile on first use).
    """
    ready = _state["ready"]
    if dtype in ready:
        return True
    if os.environ.get("QMLSIM_COMPILE", "").lower() == "inline":
        ready.add(dtype)
        return True
    now = time.monotonic()
    if now - _state["last_check"].get(dtype, 0.0) < _CHECK_INTERVAL_S:
        return False
    _state["last_check"][dtype] = now
    process = _state["process"]
    if marker_path(dtype).exists() or (process is not None and process.poll() not in (None, 0)):
        # ready; or the build failed (no fcntl, no writable cache): compile on first use as before
        ready.add(dtype)
        return True
    start_background_build()
    return False


def start_background_build() -> None:
    """Start the build process once per process (a second concurrent build exits at once: it takes a lock)."""
    if _state["process"] is not None:
        return
    _state["process"] = subprocess.Popen(  # noqa: S603 - our own module, this interpreter
        [sys.executable, "-m", "qmlsim.simulators.fast.background"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )


def stop_background_build() -> bool:
    """Stop the build process this process started, if it still runs (for cold-start measurements); ``True`` if stopped."""
    process = _state["process"]
    if process is None or process.poll() is not None:
        return False
    process.kill()
    process.wait(timeout=30)
    return True


def build(dtypes: tuple[str, ...] = BUILD_ORDER) -> bool:
    """Compile every kernel of ``dtypes`` into the cache and write their ready markers.

    Returns ``False`` if another process holds the lock of one of the dtypes (it is building them).
    """
    import fcntl  # noqa: PLC0415 - POSIX; elsewhere the kernels compile on first use

    from qmlsim.simulators.fast import warm_up  # noqa: PLC0415

    built_all = True
    for dtype in dtypes:
        marker = marker_path(dtype)
        lock_path = marker.with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                built_all = False
                continue
            if not marker.exists():
                warm_up((dtype,), gradients=True, everything=True)
                marker.write_text(f"{time.time()}\n")
    return built_all


def build_in_parallel(dtypes: tuple[str, ...] = BUILD_ORDER, timeout: float = 900.0) -> list[str]:
    """Build the dtypes whose markers are missing, one process per dtype, and wait for them.

    Returns the dtypes that were built (empty when the cache was ready). A failed build is
    not an error: the kernels then compile on first use.
    """
    missing = [dtype for dtype in dtypes if not marker_path(dtype).exists()]
    env = dict(os.environ, QMLSIM_COMPILE="inline")
    processes = [
        subprocess.Popen(  # noqa: S603 - our own module, this interpreter
            [sys.executable, "-m", "qmlsim.simulators.fast.background", dtype], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for dtype in missing
    ]
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return missing


if __name__ == "__main__":
    os.environ["QMLSIM_COMPILE"] = "inline"  # this process is the one that compiles
    build(tuple(sys.argv[1:]) or BUILD_ORDER)
