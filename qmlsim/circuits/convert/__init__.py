"""Converters between qmlsim circuits and Qiskit, PennyLane and OpenQASM.

Conversions are direct object translations (never through QASM text). Qiskit and
PennyLane are imported only by the submodule that needs them, so importing this
package needs NumPy only.

- :func:`to_qiskit`, :func:`from_qiskit`, :func:`qiskit_parameters`, :func:`parameter_values`
  (:mod:`.qiskit`)
- :func:`to_pennylane`, :func:`to_tape`, :func:`from_pennylane`, :func:`to_pennylane_observable`,
  :func:`from_pennylane_observable`, :func:`to_pennylane_qsvt`, :func:`to_pennylane_gqsp` (:mod:`.pennylane`)
- :func:`to_qasm3`, :func:`from_qasm2` (:mod:`.qasm`)
- :func:`reverse_bit_order` (:mod:`.bitorder`): the one place that converts arrays
  between qmlsim's big-endian and Qiskit's little-endian basis order.

>>> from qmlsim.circuits.convert import reverse_bit_order
>>> reverse_bit_order(__import__("numpy").arange(4), 2).tolist()
[0, 2, 1, 3]
"""
from __future__ import annotations

import importlib
from typing import Any

from qmlsim.circuits.convert.bitorder import bit_reversal_permutation, reverse_bit_order

_LAZY = {
    "to_qiskit": "qmlsim.circuits.convert.qiskit",
    "from_qiskit": "qmlsim.circuits.convert.qiskit",
    "qiskit_parameters": "qmlsim.circuits.convert.qiskit",
    "parameter_values": "qmlsim.circuits.convert.qiskit",
    "to_qiskit_observable": "qmlsim.circuits.convert.qiskit",
    "to_pennylane": "qmlsim.circuits.convert.pennylane",
    "to_tape": "qmlsim.circuits.convert.pennylane",
    "from_pennylane": "qmlsim.circuits.convert.pennylane",
    "to_pennylane_observable": "qmlsim.circuits.convert.pennylane",
    "from_pennylane_observable": "qmlsim.circuits.convert.pennylane",
    "to_pennylane_qsvt": "qmlsim.circuits.convert.pennylane",
    "to_pennylane_gqsp": "qmlsim.circuits.convert.pennylane",
    "to_qasm3": "qmlsim.circuits.convert.qasm",
    "from_qasm2": "qmlsim.circuits.convert.qasm",
}

__all__ = ["reverse_bit_order", "bit_reversal_permutation", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'qmlsim.circuits.convert' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def require(module: str, extra: str) -> Any:
    """Import an optional library or raise an ImportError naming the ``pip install`` that fixes it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError(f"this converter needs {module}: pip install {extra}") from error
