"""Compiled CPU fast path of the NumPy backend: numba kernels, an op interpreter, cache-blocked fusion.

A :class:`~qmlsim.simulators.program.Program` is packed once into a :class:`FastPlan`:
integer op records (kernel kind, targets as bit positions, control mask, angle slots),
the constant operators of angle-free gates, and affine angle specs (``a * x[i] + b``,
``a * w[j] + b``; other expressions are evaluated in Python per call). One numba call
then runs every gate of every row:

* small states (``num_wires <= chunk_bits``): each row is simulated by a serial
  interpreter while it sits in cache; rows run in parallel (``prange``) when there is
  enough work. No per-gate Python dispatch, which is what makes single calls cost
  microseconds and bulk rows a fraction of one.
* states of 13 wires and more: the split layout (:mod:`~qmlsim.simulators.fast.split`):
  passes over chunks held as separate real and imaginary arrays, with bits permuted so
  every gate works on long contiguous runs that LLVM vectorises.
* large states whose ops are too wide for a split pass: gates are grouped so that each group touches at most ``chunk_bits``
  bit positions (the lowest ``run_bits`` positions always included); a group is applied
  in one pass over memory: every chunk of ``2**chunk_bits`` amplitudes is gathered
  (contiguous runs), all the group's gates are applied to it in cache, and it is
  written back. Gates that commute trivially (disjoint wires) are moved into earlier
  groups. This is gate fusion without dense matrices: the memory traffic of a group is
  that of a single gate.

Gate kernels: dense 1- and 2-target, diagonal, permutation (X swaps, general), and a
generic ``k``-target kernel; controls are a bit mask (the controlled sub-space only).
The plain array path (:mod:`qmlsim.simulators.kernels`) stays the reference; tests pit the two against
each other.

>>> import numpy as np
>>> from qmlsim.circuits import Circuit
>>> from qmlsim.simulators.backends import get_backend
>>> from qmlsim.simulators.program import compile_circuit
>>> c = Circuit(2); w = c.weights(1); _ = c.ry(w[0], 0).cx(0, 1)
>>> plan = plan_for(compile_circuit(c, get_backend("numpy"), "complex128"))
>>> np.round(abs(plan.states(np.zeros((1, 0)), np.array([np.pi]))) ** 2, 6).tolist()
[[0.0, 0.0, 0.0, 1.0]]
"""
import time

from qmlsim.simulators.fast.adjoint import adjoint_jacobian
from qmlsim.simulators.fast.kernels import available
from qmlsim.simulators.fast.plan import FastPlan, Unsupported, plan_for

__all__ = ["available", "FastPlan", "plan_for", "Unsupported", "adjoint_jacobian", "warm_up"]


def warm_up(dtypes: tuple[str, ...] = ("complex128",), gradients: bool = True, everything: bool = False) -> float:
    """Compile (or load from the cache) the numba kernels now, instead of inside the first call.

    The first compilation takes tens of seconds; later processes load the kernels from
    numba's cache in about a second. Commands call this before a long run so that the
    wait is announced rather than hidden in a stalled progress bar.

    Args:
        dtypes: the state dtypes to prepare.
        gradients: also prepare the adjoint-gradient kernels.
        everything: also the kernels of large states (the split layout; the interleaved
            cache-blocked groups), parallel row blocks and the repeated-call lane: what the
            background build of :mod:`qmlsim.simulators.fast.background` compiles.

    Returns:
        Seconds taken (0 if numba is missing).

    Example:
        >>> warm_up() >= 0.0
        True
    """
    if not available():
        return 0.0
    import numpy as np  # noqa: PLC0415

    from qmlsim.circuits import Circuit, X, Z  # noqa: PLC0415
    from qmlsim.simulators.simulator import Simulator  # noqa: PLC0415

    start = time.perf_counter()
    c = Circuit(3)
    x, w = c.inputs(1), c.weights(2)
    c.h(0).rx(x[0], 1).ry(w[0], 2).rz(w[1], 0).u(x[0], w[0], 0.3, 1).cx(0, 1).rzz(w[1], 1, 2).ccx(0, 1, 2)
    c.unitary(np.eye(2), [2])
    rows, weights = np.array([[0.1], [0.2]]), np.array([0.3, 0.4])
    for dtype in dtypes:
        sim = Simulator(dtype=dtype, kernels="numba")
        sim.expval(c, Z(0) @ Z(2), x=rows, weights=weights)
        many = np.linspace(0.0, 1.0, 16)[:, None]  # the SIMD-rows kernels: states, and Pauli sums directly
        sim.statevector(c, x=many, weights=weights)
        sim.expval(c, Z(0) @ Z(2), x=many, weights=weights)
        if gradients:
            sim.jacobian(c, Z(0) @ Z(2), x=rows, weights=weights)
            if everything:  # the sweep of one large state split over the threads
                from qmlsim.simulators.fast.adjoint import adjoint_jacobian  # noqa: PLC0415

                adjoint_jacobian(sim._fast_plan(sim._prepare(c, rows, weights)[0]), [Z(0) @ Z(2)], rows, weights,
                                 "weights", within_state=True)
        if not everything:
            continue
        observable = Z(0) @ Z(2)  # the repeated-call lane: the same circuit and observable objects again
        sim.expval(c, observable, x=rows, weights=weights)
        sim.expval(c, observable, x=rows, weights=weights)
        sim.expval(c, observable, x=many, weights=weights)  # the lane on many rows
        sim.expval(c, observable, x=many, weights=weights)
        # parallel row blocks; the split layout: one state, rows in parallel, two chunks per pass (serial
        # on one thread, else in parallel); the interleaved cache-blocked groups (ops wider than a split pass)
        for n, batch in ((11, 256), (13, 1), (13, 256), (17, 1)):
            big = Circuit(n)
            xs = big.inputs(1)
            for q in range(n):
                big.ry(xs[0] * (q + 1), q)
            for q in range(n - 1):
                big.cx(q, q + 1)
            sim.expval(big, Z(0) @ Z(n - 1) + 0.5 * X(1), x=np.full((batch, 1), 0.3))
        wide = Circuit(17).h(0)
        wide.compose(Circuit(1).x(0).controlled(14), list(range(2, 17)))
        sim.statevector(wide)
    return time.perf_counter() - start
