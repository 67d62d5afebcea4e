"""Ground-state preparation by dynamical cooling with QSP: a dynamical-cooling-style protocol (inferred from the abstract).

Motlagh, Shokrian Zini, Arrazola and Wiebe (arXiv:2404.05810) map ``H`` through a shifted
sign function, so that eigenvalues below and above a threshold ``mu`` form two bands
separated by a gap, and evolve under the transformed Hamiltonian plus a weak perturbation
``lambda V``, which drives transitions down in energy. **Only the paper's abstract could
be read** when this was written. The default protocol is the reconstruction of
``../shared/specs/qsp-cooling-ridgelet-hhl.md`` section 1.3, which cools in simulation::

    mu_k swept linearly from above E_max to between E_0 and E_1 (k = 1 .. d),
    |psi> <- exp(-i t [S_eps(H - mu_k) + lambda V]) |psi>,   lambda = c / sqrt(d),  t = 1 / lambda,
    S_eps(x) = erf(x / eps),  eps = 0.025 (E_max - E_min),  V = -(1/n) sum_i Z_i,  |psi_0> = |0...0>,

for a total evolution time ``d^{3/2} / c``, the scaling the abstract states. Every piece is
a parameter. Results carry the label ``PROTOCOL_LABEL``; none of the numbers are the
paper's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits import Observable, Z
from qmlsim.circuits.qsp import laurent_series
from qmlsim.circuits.qsp.polynomials import erf

__all__ = [
    "PROTOCOL_LABEL",
    "CoolingResult",
    "dynamical_cooling",
    "default_perturbation",
    "linear_mu_schedule",
    "as_hermitian_matrix",
]

PROTOCOL_LABEL = "dynamical-cooling-style protocol (inferred from the abstract)"
_DENSE_LIMIT = 12  # wires: the dense method diagonalises 2^n x 2^n matrices


@dataclass(frozen=True)
class CoolingResult:
    """What :func:`dynamical_cooling` returns (final class).

    Attributes:
        state: final state ``(2^n,)``.
        energies: ``<H>`` before the first step and after each, ``(steps + 1,)``.
        fidelities: ``|<E_0|psi>|^2`` with the exact ground state (the ground space when
            degenerate), ``(steps + 1,)``.
        queries: ``{"exp(-iH)": ..., "V": ...}``: queries of the inferred cost accounting (one
            block encoding of V and one shifted-sign polynomial of degree ``sign_degree`` in
            ``e^{-iH}`` per unit of evolution time).
        mu_schedule: the thresholds used, ``(steps,)``.
        coupling: ``lambda`` (``c / sqrt(steps)``).
        time_per_step: ``t``.
        sign_width: ``eps`` of ``erf(x / eps)``.
        sign_degree: degree of the GQSP polynomial the accounting assumes.
        ground_energy: ``E_0``.
        method: ``"dense"`` or ``"circuit"``.
        label: :data:`PROTOCOL_LABEL`.
        circuit: for ``method="circuit"``, the GQSP circuit of one shifted-sign slice (its
            angles are weights, one set per threshold; inputs select the system basis
            state), to export or count gates; else ``None``.
        trotter_slices: slices per cooling step (``method="circuit"``), else 0.
    """

    state: np.ndarray
    energies: np.ndarray
    fidelities: np.ndarray
    queries: dict
    mu_schedule: np.ndarray
    coupling: float
    time_per_step: float
    sign_width: float
    sign_degree: int
    ground_energy: float
    method: str
    label: str = field(default=PROTOCOL_LABEL)
    circuit: Any = None
    trotter_slices: int = 0


def default_perturbation(num_wires: int) -> Observable:
    """``V = -(1/n) sum_i Z_i``: norm 1, ground state ``|0...0>`` (the spec's choice)."""
    return sum((Z(i) for i in range(1, num_wires)), Z(0)) * (-1.0 / num_wires)


def linear_mu_schedule(energies: np.ndarray, steps: int) -> np.ndarray:
    """``mu`` from ``E_max + 1`` (every level in the lower band) to ``(E_0 + E_1) / 2``, linearly, ``(steps,)``."""
    return np.linspace(energies[-1] + 1.0, 0.5 * (energies[0] + energies[1]), steps)


def as_hermitian_matrix(operator: Any, num_wires: int | None, name: str) -> tuple[np.ndarray, int]:
    """``(matrix, num_wires)`` of a Pauli-sum observable or a dense Hermitian matrix; ``ValueError`` naming ``name`` otherwise."""
    if isinstance(operator, Observable):
        wires = max(operator.wires) + 1 if operator.wires else 1
        n = wires if num_wires is None else int(num_wires)
        return operator.matrix(n), n
    matrix = np.asarray(operator, dtype=complex)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"{name} must be a Pauli-sum Observable or a square matrix, got shape {matrix.shape}")
    dim = matrix.shape[0]
    n = int(round(math.log2(dim))) if dim > 0 else 0
    if 2**n != dim or n < 1:
        raise ValueError(f"{name} has dimension {dim}; it must be 2^n")
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    if np.abs(matrix - matrix.conj().T).max() > 1e-10 * max(1.0, np.abs(matrix).max()):
        raise ValueError(f"{name} must be Hermitian (a Hamiltonian); symmetrise it with (M + M^dagger) / 2 if that is what you meant")
    return matrix, n


def _sign_degree(sign_width: float, spread: float, accuracy: float = 1e-3) -> int:
    """GQSP degree for ``erf(x / eps)`` over a spectrum of width ``spread`` in ``e^{-iH}``: ``2m``, ``m ~ 4 k``.

    With the spectrum mapped into ``(-pi/2, pi/2)`` the steepness is ``k = (spread / pi) / eps``
    and the spec's rule ``m = 4k`` gives about 1e-3 (``accuracy`` scales it logarithmically).
    """
    k = (spread / math.pi) / sign_width
    return 2 * max(1, math.ceil(4 * k * math.log(1 / accuracy) / math.log(1e3)))


def dynamical_cooling(
    hamiltonian: Observable | np.ndarray,
    perturbation: Observable | np.ndarray | None = None,
    steps: int = 64,
    coupling: float = 1.0,
    sign_width: float | None = None,
    mu_schedule: Sequence[float] | Callable[[np.ndarray, int], np.ndarray] | None = None,
    initial_state: np.ndarray | None = None,
    method: str = "dense",
    num_wires: int | None = None,
    trotter_slices: int | None = None,
    device: Any = None,
) -> CoolingResult:
    """Cool toward the ground state of ``H`` by the inferred dynamical-cooling protocol (see the module docstring).

    Args:
        hamiltonian: ``H``, a Pauli-sum observable (``qmlsim.circuits.templates.tfim`` and
            friends) or a dense Hermitian matrix.
        perturbation: ``V`` with ``||V|| = 1`` (default ``-(1/n) sum Z_i``).
        steps: ``d``, the number of cooling steps.
        coupling: ``c`` in ``lambda = c / sqrt(d)``; each step evolves for ``t = 1 / lambda``.
        sign_width: ``eps`` of the shifted sign ``erf((H - mu) / eps)``; default ``0.025 (E_max - E_min)``.
        mu_schedule: ``(steps,)`` thresholds, or a function ``(energies, steps) -> (steps,)``;
            default :func:`linear_mu_schedule`.
        initial_state: ``(2^n,)``; default ``|0...0>`` (the ground state of the default ``V``).
        method: ``"dense"`` (eigendecomposition, exact; up to 12 wires) or ``"circuit"``:
            each step is ``trotter_slices`` slices of ``e^{-i delta S(H - mu)}`` realised by GQSP
            on a Trotterised ``e^{-i tau H}`` (a circuit run on the engine, post-selected on its
            ancilla) alternated with ``e^{-i delta lambda V}`` (``H`` and ``V`` Pauli sums).
        num_wires: system size when ``H`` is an observable that does not touch the last wires.
        trotter_slices: Strang slices per cooling step for ``method="circuit"`` (default ``ceil(4 t)``).
        device: the executor that runs the circuits (default ``Simulator()``).

    Returns:
        :class:`CoolingResult`, labelled :data:`PROTOCOL_LABEL`.

    Raises:
        ValueError: non-Hermitian ``H`` or ``V``, ``||V||`` far from 1, a ``mu`` schedule
            outside the spectrum's range, a sign width too small to realise, bad sizes.

    Example:
        >>> from qmlsim.circuits.templates import tfim
        >>> result = dynamical_cooling(tfim(4), steps=16)
        >>> result.fidelities.shape, bool(result.fidelities[-1] > result.fidelities[0])
        ((17,), True)
    """
    if method not in ("dense", "circuit"):
        raise ValueError(f"method must be 'dense' or 'circuit', got {method!r}")
    if method == "circuit" and not all(isinstance(o, Observable) and o.is_pauli for o in (hamiltonian, perturbation or Z(0))):
        raise ValueError("method='circuit' needs H and V as Pauli-sum Observables (the circuits are built from their terms)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not coupling > 0:
        raise ValueError(f"coupling must be positive, got {coupling}")
    h, n = as_hermitian_matrix(hamiltonian, num_wires, "H")
    if n > _DENSE_LIMIT:
        raise ValueError(f"the dense method diagonalises 2^n x 2^n matrices: at most {_DENSE_LIMIT} wires, got {n}")
    v, nv = as_hermitian_matrix(default_perturbation(n) if perturbation is None else perturbation, n, "V")
    if nv != n:
        raise ValueError(f"V acts on {nv} wires, H on {n}")
    norm_v = float(np.abs(np.linalg.eigvalsh(v)).max())
    if not 0.5 <= norm_v <= 2.0:
        raise ValueError(f"the protocol assumes ||V|| = 1 (lambda sets the coupling); got ||V|| = {norm_v:.4g}: pass V / {norm_v:.4g}")
    energies, vectors = np.linalg.eigh(h)
    spread = float(energies[-1] - energies[0])
    eps = 0.025 * spread if sign_width is None else float(sign_width)
    if not eps > 0:
        raise ValueError(f"sign_width must be positive, got {eps}")
    degree = _sign_degree(eps, spread)
    if degree > 100_000:
        raise ValueError(
            f"sign_width {eps:.3g} needs a GQSP polynomial of degree ~{degree} over a spectrum of width {spread:.3g}; "
            f"use sign_width >= {spread / math.pi * 8 / 50_000:.3g}"
        )
    if mu_schedule is None:
        mus = linear_mu_schedule(energies, steps)
    elif callable(mu_schedule):
        mus = np.asarray(mu_schedule(energies, steps), dtype=float)
    else:
        mus = np.asarray(mu_schedule, dtype=float)
    if mus.shape != (steps,):
        raise ValueError(f"mu_schedule must have one threshold per step, shape ({steps},), got {mus.shape}")
    low, high = energies[0] - spread, energies[-1] + spread
    if np.any(mus < low) or np.any(mus > high) or not np.all(np.isfinite(mus)):
        raise ValueError(
            f"mu_schedule leaves the spectrum's range [{energies[0]:.4g}, {energies[-1]:.4g}] by more than its width; "
            "thresholds must lie within [E_min - width, E_max + width]"
        )
    if initial_state is None:
        psi = np.zeros(2**n, dtype=complex)
        psi[0] = 1.0
    else:
        psi = np.asarray(initial_state, dtype=complex).reshape(-1)
        if psi.size != 2**n or not np.all(np.isfinite(psi)) or np.linalg.norm(psi) == 0:
            raise ValueError(f"initial_state must be a finite nonzero vector of length {2**n}")
        psi = psi / np.linalg.norm(psi)
    lam = coupling / math.sqrt(steps)
    t = 1.0 / lam
    ground = vectors[:, np.abs(energies - energies[0]) < 1e-9 * max(1.0, spread)]

    def measure(state: np.ndarray) -> tuple[float, float]:
        return float(np.vdot(state, h @ state).real), float(np.sum(np.abs(ground.conj().T @ state) ** 2))

    energy_trace, fidelity_trace = np.empty(steps + 1), np.empty(steps + 1)
    energy_trace[0], fidelity_trace[0] = measure(psi)
    total_time = steps * t
    if method == "circuit":
        slices = max(1, math.ceil(4 * t)) if trotter_slices is None else int(trotter_slices)
        perturbation = default_perturbation(n) if perturbation is None else perturbation
        evolve = _CircuitSlices(hamiltonian, perturbation, n, energies, eps, t / slices, lam, device)
        for k, mu in enumerate(mus, start=1):
            step = evolve.v_half @ evolve.sign_block(mu) @ evolve.v_half
            for _ in range(slices):
                psi = step @ psi
                psi /= np.linalg.norm(psi)  # post-selection of the GQSP ancilla on |0>
            energy_trace[k], fidelity_trace[k] = measure(psi)
        queries = {"V": steps * slices, "exp(-iH)": steps * slices * evolve.degree}
        return CoolingResult(
            psi, energy_trace, fidelity_trace, queries, mus, lam, t, eps, evolve.degree, float(energies[0]), method,
            circuit=evolve.circuit, trotter_slices=slices,
        )
    for k, mu in enumerate(mus, start=1):
        transformed = (vectors * erf((energies - mu) / eps)) @ vectors.conj().T
        w, u = np.linalg.eigh(transformed + lam * v)
        psi = u @ (np.exp(-1j * t * w) * (u.conj().T @ psi))
        energy_trace[k], fidelity_trace[k] = measure(psi)
    queries = {"V": int(math.ceil(total_time)), "exp(-iH)": int(math.ceil(total_time)) * degree}
    return CoolingResult(
        psi, energy_trace, fidelity_trace, queries, mus, lam, t, eps, degree, float(energies[0]), method
    )


class _CircuitSlices:
    """The circuit method's pieces: a GQSP circuit for ``e^{-i delta S(H - mu)}`` (final class).

    ``U = e^{-i tau H}`` is a Strang-Trotter circuit with ``tau`` small enough that every
    ``theta = -tau (E - mu)`` lies in ``(-pi/2, pi/2)``; on the unit circle the target is the
    smooth periodic ``exp(-i delta erf(sin(theta_mu) / (tau eps)))`` with
    ``theta_mu = -(theta + tau mu)``, a Laurent polynomial of degree ``m`` in ``U`` (FFT
    coefficients), realised by GQSP as ``P(z) = s z^m f(z)`` followed by ``U^-m``. The
    GQSP angles are the circuit's weights, so one compiled circuit serves every ``mu``;
    its inputs select the system basis state, so one batched engine call returns the
    whole ancilla-``|0>`` block.
    """

    def __init__(self, hamiltonian: Observable, perturbation: Observable, n: int, energies: np.ndarray,
                 eps: float, delta: float, lam: float, device: Any) -> None:
        from qmlsim.circuits import Circuit  # noqa: PLC0415
        from qmlsim.circuits.qsp import gqsp, trotter  # noqa: PLC0415
        from qmlsim.simulators import Simulator  # noqa: PLC0415

        self.n, self.delta, self.eps = n, delta, eps
        self.device = Simulator() if device is None else device
        spread = float(energies[-1] - energies[0])
        # every tau (E - mu) within (-pi/2, pi/2): |E - mu| <= spread + 1 for the default sweep (margin for others)
        self.tau = 0.9 * math.pi / (2 * (spread + 1.5))
        self.u = trotter(hamiltonian, self.tau, steps=2, order=2, num_wires=n)
        # degree: where the target's Laurent series falls below 1e-7 (every mu gives the same sharpness)
        self.m = laurent_series(self._target(float(energies[0])), self._GRID, tol=1e-7).size // 2
        self.degree = 2 * self.m
        core = gqsp(self.u, np.zeros((3, self.degree + 1)))
        symbolic = Circuit(n + 1)
        bits = symbolic.inputs(n)
        weights = symbolic.weights(3 * (self.degree + 1))
        for i in range(n):  # RX(pi x_i) |0> = -i |1> for x_i = 1: the basis column, phase corrected below
            symbolic.rx(np.pi * bits[i], 1 + i)
        rotation = 0  # the gqsp rotations in order take the angle columns, as weights
        for op in core.ops:
            if op.name == "gqsp":
                symbolic.gqsp(*(weights[row * (self.degree + 1) + rotation] for row in range(3)), 0)
                rotation += 1
            else:
                symbolic.append(op)
        inverse = self.u.inverse()
        for _ in range(self.m):
            symbolic.compose(inverse, wires=list(range(1, n + 1)))
        self.circuit = symbolic
        index = np.arange(2**n)
        self.bits = ((index[:, None] >> (n - 1 - np.arange(n))) & 1).astype(float)
        self.phase_fix = (1j) ** self.bits.sum(axis=1)
        # half a slice of e^{-i delta lambda V} on each side of the sign block (Strang splitting)
        w, vecs = np.linalg.eigh(perturbation.matrix(n))
        self.v_half = (vecs * np.exp(-0.5j * delta * lam * w)) @ vecs.conj().T

    _GRID = 1 << 14

    def _target(self, mu: float) -> Callable[[np.ndarray], np.ndarray]:
        """``theta -> exp(-i delta erf(sin(tau (E - mu)) / (tau eps)))`` with ``theta = -tau E`` (``U = e^{-i tau H}``)."""
        return lambda theta: np.exp(-1j * self.delta * erf(np.sin(-(theta + self.tau * mu)) / (self.tau * self.eps)))

    def sign_block(self, mu: float) -> np.ndarray:
        """``~ e^{-i delta S(H - mu)}`` on the system (the GQSP block, renormalised by its scale)."""
        from qmlsim.circuits.qsp import gqsp_angles  # noqa: PLC0415

        laurent = laurent_series(self._target(float(mu)), self._GRID, half_degree=self.m)
        scale = 0.99 / max(1.0, float(np.abs(np.fft.fft(laurent, 4096)).max()))
        angles = gqsp_angles(scale * laurent)
        states = np.asarray(self.device.statevector(self.circuit, x=self.bits, weights=angles.ravel()))
        dim = 2**self.n
        return (states[:, :dim] * self.phase_fix[:, None]).T / scale

