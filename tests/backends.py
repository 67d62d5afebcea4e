"""The backends every engine test runs on, in one place (the ``backend_spec`` fixture of ``conftest.py``).

A backend spec is ``(name, dtype)``; ``"cupy-on-cpu"`` is the CuPy backend driven by the
NumPy-backed stand-in module of ``tests/cupy_standin.py`` (no machine here has a GPU).
"""
from __future__ import annotations

from typing import Any

from qmlsim.simulators import Simulator
from qmlsim.simulators.backends import cupy_backend
from tests.cupy_standin import make_cupy_standin

BACKEND_SPECS: list[tuple[str, str]] = [
    ("numpy", "complex128"),
    ("numpy", "complex64"),
    ("jax", "complex128"),
    ("jax", "complex64"),
    ("cupy-on-cpu", "complex128"),
    ("cupy-on-cpu", "complex64"),
]
SPEC_IDS = [f"{b}-{d}" for b, d in BACKEND_SPECS]
ATOL = {"complex128": 1e-10, "complex64": 1e-5}


def make_simulator(backend: str | tuple[str, str], dtype: str | None = None, **options: Any) -> Simulator:
    """A :class:`Simulator` for a backend spec: ``make_simulator(("jax", "complex64"))`` or ``make_simulator("jax", "complex64")``."""
    if isinstance(backend, tuple):
        backend, dtype = backend
    dtype = dtype or "complex128"
    if backend == "cupy-on-cpu":
        return Simulator(backend=cupy_backend(make_cupy_standin()), dtype=dtype, **options)
    return Simulator(backend=backend, dtype=dtype, **options)
