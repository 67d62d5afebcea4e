"""Array backends: NumPy (default), CuPy and JAX, as records of an array namespace and a few hooks.

The backend is always an argument, never a global. NumPy and CuPy share every kernel
line; the CuPy backend is built from a module argument, so tests run it on CPU with a
NumPy-backed stand-in (see ``tests/simulators``).

>>> b = get_backend("numpy")
>>> b.name, b.xp.__name__
('numpy', 'numpy')
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import numpy as np

__all__ = [
    "Backend",
    "get_backend",
    "numpy_backend",
    "cupy_backend",
    "jax_backend",
    "BACKENDS",
    "DTYPES",
    "available_memory_bytes",
]

DTYPES = {"complex128": np.complex128, "complex64": np.complex64}
REAL_DTYPES = {"complex128": np.float64, "complex64": np.float32}


@dataclass(frozen=True)
class Backend:
    """An array namespace and the hooks the engine needs from it.

    Attributes:
        name: ``"numpy"``, ``"cupy"`` or ``"jax"``.
        xp: the array module (``numpy``, ``cupy``, ``jax.numpy``).
        to_host: device array -> ``numpy.ndarray``.
        set_index: ``(array, index, value) -> array`` writing ``array[index] = value``
            (in place where the library allows it, functionally under JAX).
        jit: compiles a pure function of arrays (identity outside JAX).
        traceable: whether values may be JAX tracers (no host round trips allowed).
        custatevec: cuQuantum's cuStateVec module when installed (CuPy only), else ``None``.
        concrete: context in which array constants are computed now, even while JAX is
            tracing a caller (``jax.ensure_compile_time_eval``), so cached constants of a
            compiled program never hold tracers.
        scope: context every engine call runs in: ``jax.enable_x64(True)`` for JAX in
            complex128, so 64-bit types are on for qmlsim's own work only and the
            process-wide JAX configuration is never changed.
    """

    name: str
    xp: Any
    to_host: Callable[[Any], np.ndarray]
    set_index: Callable[[Any, Any, Any], Any]
    jit: Callable[[Callable], Callable]
    traceable: bool = False
    custatevec: Any = None
    concrete: Callable[[], Any] = contextlib.nullcontext
    scope: Callable[[], Any] = contextlib.nullcontext

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"


def _set_inplace(array: Any, index: Any, value: Any) -> Any:
    array[index] = value
    return array


def _identity(fn: Callable) -> Callable:
    return fn


def numpy_backend() -> Backend:
    return Backend("numpy", np, np.asarray, _set_inplace, _identity)


def cupy_backend(module: ModuleType | None = None, custatevec_library: Any = None) -> Backend:
    """The CuPy backend. ``module`` defaults to ``import cupy``.

    cuQuantum's cuStateVec serves as the gate kernel for large states when installed
    (``custatevec_library`` overrides the detection; tests pass a CPU stand-in).

    Raises:
        ImportError: CuPy is missing; install it with ``pip install "qmlsim[gpu]"``.
    """
    if module is None:
        try:
            import cupy as module  # noqa: PLC0415 - optional dependency
        except ImportError as err:  # pragma: no cover - depends on the machine
            raise ImportError(
                'the "cupy" backend needs CuPy and a CUDA GPU: pip install "qmlsim[gpu]" '
                "(or the cupy-cudaXXx wheel matching your CUDA)"
            ) from err
    custatevec = custatevec_library
    if custatevec is None and getattr(module, "__name__", "") == "cupy":
        from qmlsim.simulators.custatevec import load_library  # noqa: PLC0415 - GPU library only

        custatevec = load_library()
    return Backend("cupy", module, module.asnumpy, _set_inplace, _identity, custatevec=custatevec)


def jax_backend(dtype: str = "complex128") -> Backend:
    """The JAX backend; in ``complex128`` its calls run inside ``jax.enable_x64(True)``.

    64-bit types are switched on only around qmlsim's own calls (a thread-local JAX
    context), never for the whole process: ``jnp.array(1.0)`` in user code stays
    float32 unless the user enables x64. ``complex64`` needs no 64-bit types at all.

    Raises:
        ImportError: JAX is missing (``pip install jax``).
    """
    try:
        import jax  # noqa: PLC0415
        import jax.numpy as jnp  # noqa: PLC0415
    except ImportError as err:  # pragma: no cover - jax is a core dependency
        raise ImportError('the "jax" backend needs JAX: pip install jax') from err
    # complex128 without x64 would silently compute in complex64
    scope = (lambda: jax.enable_x64(True)) if dtype == "complex128" else contextlib.nullcontext

    def set_index(array: Any, index: Any, value: Any) -> Any:
        # A select instead of ``array.at[index].set(value)``: XLA on CPU (jax 0.10) has
        # miscompiled that scatter inside jitted circuits, and the select is as fast.
        mask = None
        for axis, item in enumerate(index):
            if isinstance(item, slice):
                continue
            value = jnp.expand_dims(value, axis)
            shape = [1] * array.ndim
            shape[axis] = array.shape[axis]
            hit = (jnp.arange(array.shape[axis]) == item).reshape(shape)
            mask = hit if mask is None else mask & hit
        return jnp.where(mask, value, array) if mask is not None else jnp.broadcast_to(value, array.shape)

    return Backend(
        "jax", jnp, np.asarray, set_index, jax.jit, traceable=True, concrete=jax.ensure_compile_time_eval, scope=scope
    )


BACKENDS: dict[str, Callable[..., Backend]] = {
    "numpy": lambda dtype: numpy_backend(),
    "cupy": lambda dtype: cupy_backend(),
    "jax": jax_backend,
}


def get_backend(name: str | Backend, dtype: str = "complex128") -> Backend:
    """Look up a backend by name (or pass a :class:`Backend` through).

    Raises:
        ValueError: unknown backend name.
    """
    if isinstance(name, Backend):
        return name
    factory = BACKENDS.get(name)
    if factory is None:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    return factory(dtype)


def available_memory_bytes() -> int:
    """Memory available to new allocations on this host (``MemAvailable``), in bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 * 2**30
