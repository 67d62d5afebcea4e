"""Quantum signal processing: bounded polynomials, phase factors, QSP / QSVT / GQSP circuits, block encodings.

In short::

    from qmlsim.circuits import qsp
    p = qsp.sign_polynomial(degree=161, delta=20)   # numpy.polynomial.Chebyshev, odd, max |p| = 0.9
    phases = qsp.angles(p)                          # symmetric QSP phases, Wx convention: Im <0|U(a)|0> = p(a)
    c = qsp.qsp_circuit(phases)                     # 1 wire, input x[0] = a

Conventions (which matrix element holds the polynomial, and the phase maps between
pyqsp, QSPPACK, PennyLane and QSVT) are in ``docs/qsp.md`` and :func:`convert_phases`.
"""
from qmlsim.circuits.qsp.angles import (
    CONVENTIONS,
    AngleFindingError,
    angles,
    convert_phases,
    qsp_response,
    qsp_unitary,
    reduced_to_full,
)
from qmlsim.circuits.qsp.circuits import (
    BlockEncoding,
    block_encode_matrix,
    block_encode_pauli_sum,
    global_phase,
    gqsp,
    householder,
    projector_phase,
    qsp_circuit,
    qsvt,
    qsvt_polynomial,
    state_preparation,
    walk_operator,
)
from qmlsim.circuits.qsp.gqsp_phases import complementary_polynomial, gqsp_angles, gqsp_matrix, laurent_series
from qmlsim.circuits.qsp.hamiltonian import jacobi_anger_laurent, pauli_rotation, qubitization_evolution, trotter
from qmlsim.circuits.qsp.polynomials import (
    QSPPolynomial,
    chebyshev_approximation,
    cos_polynomial,
    erf_polynomial,
    gibbs_polynomial,
    inverse_polynomial,
    max_abs,
    shifted_sign_polynomial,
    sign_polynomial,
    sin_polynomial,
    threshold_polynomial,
)

__all__ = [
    "QSPPolynomial",
    "chebyshev_approximation",
    "sign_polynomial",
    "erf_polynomial",
    "shifted_sign_polynomial",
    "threshold_polynomial",
    "inverse_polynomial",
    "cos_polynomial",
    "sin_polynomial",
    "gibbs_polynomial",
    "max_abs",
    "angles",
    "AngleFindingError",
    "convert_phases",
    "CONVENTIONS",
    "reduced_to_full",
    "qsp_unitary",
    "qsp_response",
    "complementary_polynomial",
    "gqsp_angles",
    "gqsp_matrix",
    "laurent_series",
    "qsp_circuit",
    "BlockEncoding",
    "block_encode_matrix",
    "block_encode_pauli_sum",
    "walk_operator",
    "qsvt",
    "qsvt_polynomial",
    "gqsp",
    "projector_phase",
    "global_phase",
    "householder",
    "state_preparation",
    "trotter",
    "pauli_rotation",
    "qubitization_evolution",
    "jacobi_anger_laurent",
]
