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
from qmlsim.simulators.sparse import sparse_matrix

__all__ = [
    "PROTOCOL_LABEL",
    "CoolingResult",
    "dynamical_cooling",
    "default_perturbation",
    "linear_mu_schedule",
    "as_hermitian_matrix",
]

PROTOCOL_LABEL = "dynamical-cooling-style protocol (inferred from the abstract)"
_EIG_LIMIT = 10  # wires: up to here the dense method diagonalises H; above, Chebyshev series in sparse H
_DENSE_LIMIT = 16  # wires: the matrix-free dense method and the circuit method hold a few 2^n vectors


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
        circuit: for ``method="circuit"``, the circuit of one slice (ancilla wire 0, then
            the system; the GQSP angles are its weights, one set per threshold), run from
            ``|0>|psi>``, to export or count gates; else ``None``.
        trotter_slices: slices per cooling step (``method="circuit"``), else 0.
        success_probability: mean probability of the GQSP ancilla's ``|0>`` per slice
            (``method="circuit"``; its states are renormalised after each), else 1.
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
    success_probability: float = 1.0


def default_perturbation(num_wires: int) -> Observable:
    """``V = -(1/n) sum_i Z_i``: norm 1, ground state ``|0...0>`` (the spec's choice)."""
    return sum((Z(i) for i in range(1, num_wires)), Z(0)) * (-1.0 / num_wires)


def linear_mu_schedule(energies: np.ndarray, steps: int) -> np.ndarray:
    """``mu`` from ``E_max + 1`` (every level in the lower band) to ``(E_0 + E_1) / 2``, linearly, ``(steps,)``."""
    return np.linspace(energies[-1] + 1.0, 0.5 * (energies[0] + energies[1]), steps)


def as_hermitian_matrix(operator: Any, num_wires: int | None, name: str, sparse: bool = False) -> tuple[Any, int]:
    """``(matrix, num_wires)`` of a Pauli-sum observable or a dense Hermitian matrix; ``ValueError`` naming ``name`` otherwise.

    With ``sparse`` an observable becomes a ``scipy.sparse`` matrix (a given dense matrix stays dense).
    """
    if isinstance(operator, Observable):
        wires = max(operator.wires) + 1 if operator.wires else 1
        n = wires if num_wires is None else int(num_wires)
        if n > _DENSE_LIMIT:
            raise ValueError(f"{name} acts on {n} wires; the cooling methods hold 2^n vectors: at most {_DENSE_LIMIT} wires")
        return (sparse_matrix(operator, n) if sparse else operator.matrix(n)), n
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


@dataclass(frozen=True)
class _Spectrum:
    """What the protocol reads of ``H`` (final class).

    ``energies`` are sorted: the whole spectrum (eigendecomposition) or the lowest four and
    the highest (Lanczos, ``scipy.sparse.linalg.eigsh``); ``ground`` spans the ground space
    ``(2^n, g)``; ``vectors`` holds every eigenvector, or ``None`` when matrix-free.
    """

    energies: np.ndarray
    ground: np.ndarray
    vectors: np.ndarray | None


def _spectrum(h: Any) -> _Spectrum:
    if isinstance(h, np.ndarray):
        energies, vectors = np.linalg.eigh(h)
        low = vectors
    else:
        from scipy.sparse.linalg import eigsh  # noqa: PLC0415

        lowest, low = eigsh(h, k=min(4, h.shape[0] - 2), which="SA", tol=1e-12)
        order = np.argsort(lowest)
        lowest, low = lowest[order], low[:, order]
        highest = eigsh(h, k=1, which="LA", tol=1e-10, return_eigenvectors=False)
        energies, vectors = np.concatenate([lowest, highest]), None
    spread = float(energies[-1] - energies[0])
    degenerate = np.abs(energies[: low.shape[1]] - energies[0]) < 1e-9 * max(1.0, spread)
    return _Spectrum(energies, low[:, degenerate], vectors)


def _operator_norm(v: Any) -> float:
    if isinstance(v, np.ndarray):
        return float(np.abs(np.linalg.eigvalsh(v)).max())
    from scipy.sparse.linalg import eigsh  # noqa: PLC0415

    return float(np.abs(eigsh(v, k=1, which="LM", tol=1e-8, return_eigenvectors=False)).max())


def _lanczos_expm(apply: Callable[[np.ndarray], np.ndarray], psi: np.ndarray, t: float, tol: float = 1e-13,
                  max_dim: int = 200) -> tuple[np.ndarray, int]:
    """``exp(-i t A) psi`` for Hermitian ``A`` (``apply``, spectrum in ``[-1, 1]``) by Lanczos; also the products used.

    Our own because scipy has no Krylov exponential for an operator: ``expm_multiply`` is a
    Taylor method that needs norm estimates of powers of ``A`` and about ``2 t ||A||``
    products; Lanczos converges in about ``t ||A|| + 10`` (measured: 20-22 products at
    ``t ||A|| = 9`` against 30 for the Chebyshev-Bessel series of the same accuracy), and
    here each product is a whole polynomial in ``H``. Full reorthogonalisation keeps the basis
    orthonormal (at most a few dozen vectors). Stops when the a-posteriori error
    ``beta_m |[exp(-i t T_m)]_{m,0}|`` falls below ``tol``.
    """
    norm = float(np.linalg.norm(psi))
    basis = [np.asarray(psi, dtype=complex) / norm]
    alphas: list[float] = []
    betas: list[float] = []
    for m in range(1, max_dim + 1):
        w = apply(basis[-1])
        alphas.append(float(np.vdot(basis[-1], w).real))
        stack = np.array(basis)  # (m, dim)
        for _ in range(2):  # full reorthogonalisation, twice ("twice is enough")
            w -= stack.T @ (stack.conj() @ w)
        beta = float(np.linalg.norm(w))
        tridiagonal = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        values, vectors = np.linalg.eigh(tridiagonal)
        coefficients = vectors @ (np.exp(-1j * t * values) * vectors[0].conj())  # exp(-i t T) e_0
        if beta * abs(coefficients[-1]) < tol or beta < 1e-14:
            return norm * (stack.T @ coefficients), m
        betas.append(beta)
        basis.append(w / beta)
    raise RuntimeError(f"Lanczos did not reach {tol:g} in {max_dim} steps (t ||A|| = {t:.3g}); use fewer, shorter steps")


class _MatrixFreeStep:
    """One cooling step ``exp(-i t [S(H - mu) + lambda V]) psi`` without diagonalising ``H`` (final class).

    ``S(H - mu) = erf((H - mu) / eps)`` is a Chebyshev series in ``(H - c) / r`` (``c``, ``r``
    the centre and half-width of the spectrum) and the exponential is the Chebyshev-Bessel
    (Jacobi-Anger) series of ``exp(-i t A)``, ``A = S + lambda V``: ``~ (t ||A|| + 20)`` products
    with ``A``, each a degree-``~4 r / eps`` series in ``H``. scipy's ``expm_multiply`` would
    need 1-norm estimates of powers of ``A`` (each product costing a whole series in ``H``);
    the Bessel series needs none and its length is known in advance.
    """

    def __init__(self, hamiltonian: Observable, num_wires: int, v: Any, energies: np.ndarray, eps: float, lam: float, t: float,
                 norm_v: float) -> None:
        from qmlsim.circuits.qsp import chebyshev_approximation  # noqa: PLC0415
        from qmlsim.simulators.sparse import PauliSumOperator  # noqa: PLC0415

        self.v, self.eps, self.lam, self.t = v, eps, lam, t
        self.center = 0.5 * float(energies[-1] + energies[0])
        self.radius = 0.5 * float(energies[-1] - energies[0]) * (1 + 1e-6) + 1e-12
        self.norm_v = norm_v
        # (H - c) / r once, with a fused parallel Chebyshev step (a real H as two real CSR columns measured 1.7x slower)
        self.scaled = PauliSumOperator(hamiltonian, num_wires, scale=1 / self.radius, shift=-self.center / self.radius)
        self._series = chebyshev_approximation
        self.products = 0  # products with H so far

    def _sign_series(self, mu: float) -> Any:
        c, r, eps = self.center, self.radius, self.eps
        # the tail test is conservative: eps=1e-8 leaves a measured error of about 3e-11
        return self._series(lambda y: erf((c + r * y - mu) / eps), eps=1e-8, max_scale=None)

    def __call__(self, mu: float, psi: np.ndarray) -> np.ndarray:
        sign = self._sign_series(mu)
        coef = np.asarray(sign.coef)
        bound = 1.0 + sign.error + self.lam * self.norm_v  # ||S + lambda V|| <= bound
        scaled = self.scaled

        def apply_a(phi: np.ndarray) -> np.ndarray:
            """``(S(H - mu) + lambda V) phi / bound``: the sign's Chebyshev series by fused recurrence steps."""
            phi = np.ascontiguousarray(phi, dtype=complex)
            out = coef[0] * phi
            previous, current = phi, scaled @ phi
            out += coef[1] * current
            for c in coef[2:]:
                previous, current = current, scaled.chebyshev_step(current, previous, c, out)
            out += self.lam * (self.v @ phi)
            out /= bound
            return out

        # BLAS on one thread: its spinning threads (Lanczos' small products) would take the
        # cores from the parallel Chebyshev steps (measured 3x slower without the limit)
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - scikit-learn's dependency

        with threadpool_limits(1, user_api="blas"):
            out, products = _lanczos_expm(apply_a, psi, self.t * bound)
        self.products += products * (coef.size - 1)
        return out


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
        method: ``"dense"`` (exact: eigendecomposition up to 10 wires, above that Chebyshev
            series in sparse ``H``, up to 16 wires) or ``"circuit"``: each step is
            ``trotter_slices`` slices of ``e^{-i delta S(H - mu)}`` realised by GQSP on a
            Trotterised ``e^{-i tau H}`` (a circuit run on the engine from the current state,
            post-selected on its ancilla) between half steps ``e^{-i delta lambda V / 2}``
            (``H`` and ``V`` Pauli sums).
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
    if isinstance(hamiltonian, Observable):
        n = (max(hamiltonian.wires) + 1 if hamiltonian.wires else 1) if num_wires is None else int(num_wires)
        matrix_free = n > _EIG_LIMIT
    else:
        matrix_free = False
    h, n = as_hermitian_matrix(hamiltonian, num_wires, "H", sparse=matrix_free)
    perturbation = default_perturbation(n) if perturbation is None else perturbation
    v, nv = as_hermitian_matrix(perturbation, n, "V", sparse=matrix_free)
    if nv != n:
        raise ValueError(f"V acts on {nv} wires, H on {n}")
    norm_v = _operator_norm(v)
    if not 0.5 <= norm_v <= 2.0:
        raise ValueError(f"the protocol assumes ||V|| = 1 (lambda sets the coupling); got ||V|| = {norm_v:.4g}: pass V / {norm_v:.4g}")
    spectrum = _spectrum(h)
    energies = spectrum.energies
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
    ground = spectrum.ground

    def measure(state: np.ndarray) -> tuple[float, float]:
        return float(np.vdot(state, h @ state).real), float(np.sum(np.abs(ground.conj().T @ state) ** 2))

    energy_trace, fidelity_trace = np.empty(steps + 1), np.empty(steps + 1)
    energy_trace[0], fidelity_trace[0] = measure(psi)
    total_time = steps * t
    if method == "circuit":
        slices = max(1, math.ceil(4 * t)) if trotter_slices is None else int(trotter_slices)
        evolve = _CircuitSlices(hamiltonian, perturbation, n, energies, eps, t / slices, lam, device)
        for k, mu in enumerate(mus, start=1):
            angles = evolve.angles(mu)
            for _ in range(slices):
                psi = evolve(angles, psi)
            energy_trace[k], fidelity_trace[k] = measure(psi)
        queries = {"V": steps * slices, "exp(-iH)": steps * slices * evolve.degree}
        return CoolingResult(
            psi, energy_trace, fidelity_trace, queries, mus, lam, t, eps, evolve.degree, float(energies[0]), method,
            circuit=evolve.circuit, trotter_slices=slices, success_probability=float(np.mean(evolve.success)),
        )
    if matrix_free:
        step = _MatrixFreeStep(hamiltonian, n, v, energies, eps, lam, t, norm_v)
        for k, mu in enumerate(mus, start=1):
            psi = step(float(mu), psi)
            energy_trace[k], fidelity_trace[k] = measure(psi)
    else:
        vectors = spectrum.vectors
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
    """The circuit method's slice: ``e^{-i delta lambda V / 2}``, GQSP for ``e^{-i delta S(H - mu)}``, ``e^{-i delta lambda V / 2}`` (final class).

    ``U = e^{-i tau H}`` is a Strang-Trotter circuit with ``tau`` small enough that every
    ``theta = -tau (E - mu)`` lies in ``(-pi/2, pi/2)``; on the unit circle the target is the
    smooth periodic ``exp(-i delta erf(sin(theta_mu) / (tau eps)))`` with
    ``theta_mu = -(theta + tau mu)``, a Laurent polynomial of degree ``m`` in ``U`` (FFT
    coefficients), realised by GQSP as ``P(z) = s z^m f(z)`` followed by ``U^-m``. The
    GQSP angles are the circuit's weights, so one compiled circuit serves every ``mu``.
    Each slice runs on the engine from ``|0>_ancilla |psi>`` and keeps the ancilla-``|0>``
    block (post-selection; its probability is recorded in ``success``). The ``V`` half
    steps are a Trotter circuit of ``V``'s terms (exact when they commute, as the default's do).
    """

    _GRID = 1 << 14

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
        system = list(range(1, n + 1))
        v_half = trotter(perturbation, 0.5 * delta * lam, steps=1, order=2, num_wires=n)
        core = gqsp(self.u, np.zeros((3, self.degree + 1)))
        circuit = Circuit(n + 1)
        weights = circuit.weights(3 * (self.degree + 1))
        circuit.compose(v_half, wires=system)
        rotation = 0  # the gqsp rotations in order take the angle columns, as weights
        for op in core.ops:
            if op.name == "gqsp":
                circuit.gqsp(*(weights[row * (self.degree + 1) + rotation] for row in range(3)), 0)
                rotation += 1
            else:
                circuit.append(op)
        inverse = self.u.inverse()
        for _ in range(self.m):
            circuit.compose(inverse, wires=system)
        circuit.compose(v_half, wires=system)
        self.circuit = circuit
        self.success: list[float] = []

    def _target(self, mu: float) -> Callable[[np.ndarray], np.ndarray]:
        """``theta -> exp(-i delta erf(sin(tau (E - mu)) / (tau eps)))`` with ``theta = -tau E`` (``U = e^{-i tau H}``)."""
        return lambda theta: np.exp(-1j * self.delta * erf(np.sin(-(theta + self.tau * mu)) / (self.tau * self.eps)))

    def angles(self, mu: float) -> np.ndarray:
        """The circuit's weights for threshold ``mu``: GQSP angles ``(3 (degree + 1),)``."""
        from qmlsim.circuits.qsp import gqsp_angles  # noqa: PLC0415

        laurent = laurent_series(self._target(float(mu)), self._GRID, half_degree=self.m)
        scale = 0.99 / max(1.0, float(np.abs(np.fft.fft(laurent, 4096)).max()))
        return gqsp_angles(scale * laurent).ravel()

    def __call__(self, angles: np.ndarray, psi: np.ndarray) -> np.ndarray:
        """One slice on ``psi`` ``(2^n,)``: the normalised ancilla-``|0>`` block of the circuit's output."""
        start = np.concatenate([psi, np.zeros_like(psi)])  # ancilla (wire 0, the leading bit) in |0>
        block = np.asarray(self.device.statevector(self.circuit, weights=angles, initial_state=start))[: psi.size]
        probability = float(np.vdot(block, block).real)
        self.success.append(probability)
        return block / math.sqrt(probability)
