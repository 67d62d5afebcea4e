"""Simulation layer: the batched statevector engine, gradients, and executors for hardware and PennyLane.

``Simulator`` runs on NumPy (default), JAX or CuPy. ``QiskitExecutor``,
``PennyLaneExecutor``, ``QmlsimSampler`` and ``QmlsimEstimator`` are imported lazily
(they need Qiskit or PennyLane).
"""
from __future__ import annotations

import importlib
from typing import Any

from qmlsim.simulators.backends import Backend, get_backend
from qmlsim.simulators.executor import BaseExecutor, Executor
from qmlsim.simulators.simulator import Simulator

_LAZY = {
    "QiskitExecutor": "qmlsim.simulators.executors.qiskit",
    "PennyLaneExecutor": "qmlsim.simulators.executors.pennylane",
    "QmlsimSampler": "qmlsim.simulators.executors.primitives",
    "QmlsimEstimator": "qmlsim.simulators.executors.primitives",
    "jax_expval": "qmlsim.simulators.jax_bridge",
    "DaskExecutor": "qmlsim.simulators.executors.dask_executor",
}

__all__ = ["Simulator", "Executor", "BaseExecutor", "Backend", "get_backend", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qmlsim.simulators' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
