"""Baselines for ground-state preparation, to compare dynamical cooling against on the same problems.

- :func:`adiabatic_preparation`: ``H(s) = (1 - s) V + s H`` swept linearly over a total
  time, started in the ground state of ``V`` (exact evolution, piecewise constant).
- :func:`eigenstate_filtering`: a QSP-style polynomial filter (a smoothed step below
  ``mu``) applied to the start state, with its success probability (Lin and Tong's
  eigenstate filtering, here by a Chebyshev approximation of the step).
- :func:`vqe`: a hardware-efficient ansatz trained with Adam on the engine's adjoint
  gradients.

Each returns a :class:`GroundStateResult` with the fidelity with the exact ground state,
the energy error, and its cost in the units that method is charged in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qmlsim.circuits import Observable
from qmlsim.circuits.qsp import chebyshev_approximation
from qmlsim.circuits.qsp.polynomials import erf
from qmlsim.circuits.templates import hardware_efficient_ansatz
from qmlsim.qml.cooling import as_hermitian_matrix, default_perturbation

__all__ = ["GroundStateResult", "adiabatic_preparation", "eigenstate_filtering", "vqe"]


@dataclass(frozen=True)
class GroundStateResult:
    """A prepared state and how good and how costly it is (final class).

    Attributes:
        method: the method's name.
        state: ``(2^n,)``.
        fidelity: ``|<E_0|psi>|^2`` (ground space).
        energy_error: ``<H> - E_0``.
        cost: ``{"evolution_time": ..., "queries": ..., "circuit_evaluations": ..., "success_probability": ...}``,
            whichever apply.
    """

    method: str
    state: np.ndarray
    fidelity: float
    energy_error: float
    cost: dict


def _spectrum(h: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    energies, vectors = np.linalg.eigh(h)
    ground = vectors[:, np.abs(energies - energies[0]) < 1e-9 * max(1.0, energies[-1] - energies[0])]
    return energies, vectors, ground


def _score(h: np.ndarray, ground: np.ndarray, e0: float, psi: np.ndarray) -> tuple[float, float]:
    return float(np.sum(np.abs(ground.conj().T @ psi) ** 2)), float(np.vdot(psi, h @ psi).real - e0)


def adiabatic_preparation(
    hamiltonian: Observable | np.ndarray, total_time: float, slices: int | None = None, perturbation: Any = None
) -> GroundStateResult:
    """Linear interpolation ``(1 - s) V + s H`` over ``total_time`` in ``slices`` exact steps, from ``|0...0>``.

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> adiabatic_preparation(tfim(4), total_time=20.0).fidelity > 0.9
        True
    """
    h, n = as_hermitian_matrix(hamiltonian, None, "H")
    v, _ = as_hermitian_matrix(default_perturbation(n) if perturbation is None else perturbation, n, "V")
    if not total_time > 0:
        raise ValueError(f"total_time must be positive, got {total_time}")
    slices = max(16, int(math.ceil(4 * total_time))) if slices is None else int(slices)
    energies, _, ground = _spectrum(h)
    psi = np.linalg.eigh(v)[1][:, 0].astype(complex)
    dt = total_time / slices
    for k in range(slices):
        s = (k + 0.5) / slices
        w, u = np.linalg.eigh((1 - s) * v + s * h)
        psi = u @ (np.exp(-1j * dt * w) * (u.conj().T @ psi))
    fidelity, error = _score(h, ground, energies[0], psi)
    return GroundStateResult("adiabatic", psi, fidelity, error, {"evolution_time": float(total_time)})


def eigenstate_filtering(
    hamiltonian: Observable | np.ndarray, degree: int, initial_state: np.ndarray | None = None, mu: float | None = None
) -> GroundStateResult:
    """Apply a degree-``degree`` polynomial close to the step ``E < mu`` (default between ``E_0`` and ``E_1``).

    The spectrum is mapped onto ``[-1, 1]`` by its exact bounds; the step is ``(1 - erf((x - mu') / w)) / 2``
    with the width ``w`` the degree allows (``~ 4 / degree``), approximated in the Chebyshev basis. The cost is
    ``degree`` queries to a block encoding of ``H``, and ``1 / success_probability`` repetitions.

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> r = eigenstate_filtering(tfim(4), degree=200)
        >>> r.fidelity > 0.99 and 0 < r.cost["success_probability"] <= 1
        True
    """
    h, n = as_hermitian_matrix(hamiltonian, None, "H")
    if isinstance(degree, bool) or not isinstance(degree, (int, np.integer)) or degree < 2:
        raise ValueError(f"degree must be an integer >= 2, got {degree!r}")
    energies, vectors, ground = _spectrum(h)
    lo, hi = energies[0], energies[-1]
    mu = 0.5 * (energies[0] + energies[1]) if mu is None else float(mu)
    scaled = lambda e: (2 * (e - lo) / (hi - lo)) - 1  # noqa: E731
    width = 4.0 / degree
    step = lambda x: 0.5 * (1 - erf((np.asarray(x) - scaled(mu)) / width))  # noqa: E731
    p = chebyshev_approximation(step, degree=int(degree), max_scale=None)
    psi0 = np.zeros(2**n, dtype=complex)
    if initial_state is None:
        psi0[0] = 1.0
    else:
        psi0 = np.asarray(initial_state, dtype=complex).reshape(-1) / np.linalg.norm(initial_state)
    filtered = vectors @ (p(scaled(energies)) * (vectors.conj().T @ psi0))
    success = float(np.vdot(filtered, filtered).real)
    psi = filtered / math.sqrt(success)
    fidelity, error = _score(h, ground, energies[0], psi)
    return GroundStateResult("eigenstate filtering", psi, fidelity, error, {"queries": int(degree), "success_probability": success})


def vqe(
    hamiltonian: Observable, layers: int = 2, steps: int = 200, learning_rate: float = 0.05, seed: int = 0, device: Any = None
) -> GroundStateResult:
    """Hardware-efficient ansatz (``hardware_efficient_ansatz(n, layers)``) trained by Adam on adjoint gradients.

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> vqe(tfim(3), layers=2, steps=150).energy_error < 0.1
        True
    """
    from qmlsim.qml.optimizers import minimize  # noqa: PLC0415
    from qmlsim.simulators import Simulator  # noqa: PLC0415

    if not isinstance(hamiltonian, Observable) or not hamiltonian.is_pauli:
        raise ValueError("vqe needs a Pauli-sum Observable (the engine measures it term by term)")
    h, n = as_hermitian_matrix(hamiltonian, None, "H")
    energies, _, ground = _spectrum(h)
    device = Simulator() if device is None else device
    circuit = hardware_efficient_ansatz(n, layers)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-0.1, 0.1, (1, circuit.num_weights))

    def value_and_grad(points: np.ndarray, runs: Any = None) -> tuple[np.ndarray, np.ndarray]:
        values = np.array([float(device.expval(circuit, hamiltonian, weights=p)) for p in points])
        grads = np.array([np.asarray(device.jacobian(circuit, hamiltonian, weights=p)).reshape(-1) for p in points])
        return values, grads

    params, _ = minimize("adam", start, steps, value_and_grad=value_and_grad, learning_rate=learning_rate)
    psi = np.asarray(device.statevector(circuit, weights=params[0])).reshape(-1)
    fidelity, error = _score(h, ground, energies[0], psi)
    return GroundStateResult("vqe", psi, fidelity, error, {"circuit_evaluations": 2 * steps, "parameters": circuit.num_weights})
