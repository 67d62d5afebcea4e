"""Evaluating trained QKAN activations on an executor (hardware or a shot-based simulator).

Every edge of a layer is an independent single-qubit DARUAN circuit; many of them are
packed onto the wires of one multi-wire qmlsim ``Circuit`` (one wire per edge, each
with its own weights), so any executor with ``expval(circuit, observables, x=,
weights=)`` runs a whole layer, or a chunk of ``max_wires`` edges, in one job. The
readout is the Born-rule ``<Z>`` of each wire, estimated with the executor's shots.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qmlsim.circuits import Circuit, Z
from qmlsim.qml.qkan.daruan import daruan_circuit
from qmlsim.qml.qkan.layer import combine_edges


def packed_circuit(n_in: int, edges: Sequence[int], reps: int, ansatz: str = "pz", preact: bool = True) -> Circuit:
    """One circuit with one DARUAN circuit per listed edge input, edge ``k`` on wire ``k``.

    Args:
        n_in: number of layer inputs (declared as circuit inputs).
        edges: for each wire, the index of the input feeding that edge.
        reps, ansatz: as in :func:`~qmlsim.qml.qkan.daruan.daruan`.
        preact: declare ``w``, ``b`` weights per edge.

    Returns:
        A ``len(edges)``-wire circuit; its weights are the edges' weight vectors
        (``theta``, then ``w``, ``b``) concatenated in wire order.

    >>> packed_circuit(2, [0, 1, 0], reps=1).num_wires
    3
    """
    c = Circuit(len(edges))
    c.inputs(n_in)
    for wire, i in enumerate(edges):
        daruan_circuit(reps, ansatz, wire=wire, circuit=c, input_index=i, preact=preact)
    return c


def layer_phi_device(device: Any, params: dict[str, Any], x: np.ndarray, reps: int, ansatz: str = "pz",
                     max_wires: int | None = None, seed: int | None = None) -> np.ndarray:
    """Activations ``phi`` ``(batch, n_out, n_in)`` of one layer from ``device``'s ``<Z>`` readouts."""
    theta = np.asarray(params["theta"], np.float64)
    n_out, n_in = theta.shape[:2]
    preact = "w" in params
    flat = [(o, i) for o in range(n_out) for i in range(n_in)]
    size = max_wires or _device_wires(device) or len(flat)
    phi = np.zeros((x.shape[0], n_out, n_in))
    for start in range(0, len(flat), size):
        chunk = flat[start:start + size]
        circuit = packed_circuit(n_in, [i for _, i in chunk], reps, ansatz, preact)
        weights = []
        for o, i in chunk:
            weights.append(theta[o, i].ravel())
            if preact:
                weights += [np.asarray(params["w"][o, i], np.float64), np.asarray(params["b"][o, i], np.float64)]
        values = np.asarray(device.expval(circuit, [Z(k) for k in range(len(chunk))], x=x.astype(np.float64),
                                          weights=np.concatenate(weights), **({"seed": seed} if seed is not None else {})))
        values = values.reshape(x.shape[0], len(chunk))
        for k, (o, i) in enumerate(chunk):
            phi[:, o, i] = values[:, k]
    return phi


def apply_qkan_device(device: Any, params: Sequence[dict[str, Any]], x: np.ndarray, reps: int, ansatz: str = "pz",
                      max_wires: int | None = None, seed: int | None = None) -> np.ndarray:
    """A QKAN forward pass ``(batch, n0) -> (batch, nL)`` with activations measured on ``device``.

    One job (or one per ``max_wires`` edges) per layer; the classical layer sums run here.
    """
    x = np.asarray(x, np.float64)
    for layer in params:
        q = {k: np.asarray(v, np.float64) for k, v in layer.items()}
        x = combine_edges(q, layer_phi_device(device, q, x, reps, ansatz, max_wires, seed), x, np)
    return x


def _device_wires(device: Any) -> int | None:
    backend = getattr(device, "backend", None)
    n = getattr(backend, "num_qubits", None)
    return int(n) if isinstance(n, (int, np.integer)) else None
