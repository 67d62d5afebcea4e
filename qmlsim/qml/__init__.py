"""Quantum machine learning on qmlsim circuits: data sets, quantum kernels, classifiers, optimizers, ground states.

Submodules are imported on first use of their names, so ``import qmlsim.qml`` stays light
(``qmlsim.qml.qkan`` is a separate subpackage, never imported from here).
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ad_hoc_data": "qmlsim.qml.datasets",
    "FidelityQuantumKernel": "qmlsim.qml.kernels",
    "TrainableFidelityQuantumKernel": "qmlsim.qml.kernels",
    "compile_phase_program": "qmlsim.qml.kernels",
    "kernel_target_alignment": "qmlsim.qml.kernels",
    "QSVC": "qmlsim.qml.classifiers",
    "VariationalClassifier": "qmlsim.qml.classifiers",
    "spsa": "qmlsim.qml.optimizers",
    "adam": "qmlsim.qml.optimizers",
    "minimize_spsa": "qmlsim.qml.optimizers",
    "spsa_transform": "qmlsim.qml.optimizers",
    "minimize": "qmlsim.qml.optimizers",
    "dynamical_cooling": "qmlsim.qml.cooling",
    "adiabatic_preparation": "qmlsim.qml.ground_state",
    "eigenstate_filtering": "qmlsim.qml.ground_state",
    "vqe": "qmlsim.qml.ground_state",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qmlsim.qml' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
