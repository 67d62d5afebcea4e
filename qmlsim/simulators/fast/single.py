"""The repeated-call lane: a small circuit's expectation values in one numba call.

A QML loop calls ``Simulator.expval`` thousands of times with the same circuit and
observable and new ``x`` / ``weights``. After a first, fully validated call, the
simulator keeps a :class:`SmallLane` for that (circuit, observables) pair; later calls
whose arguments are already float64 arrays of the right shapes skip the general
preparation (conversions, dtype checks, chunking, the observable checks) and run the
states, the Pauli expectation values and the finiteness check of the angles in one
compiled call. Anything else falls back to the general path, which validates as usual.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable
from qmlsim.simulators.fast.kernels import pauli_expvals_serial, rows_serial, numba
from qmlsim.simulators.fast.plan import FastPlan, kernel_floats

__all__ = ["SmallLane", "MAX_LANE_AMPLITUDES"]

# a lane call runs serially: above this many amplitudes (rows * 2**n) the general path,
# which parallelises over rows and checks memory, is the right one
MAX_LANE_AMPLITUDES = 1 << 14

if numba is not None:
    from numba import njit

    @njit(cache=True)
    def _first_nonfinite(x, w):
        """1 if ``x`` holds a NaN/inf, 2 if ``w`` does, else 0."""
        for v in x.ravel():
            if not np.isfinite(v):
                return 1
        for v in w:
            if not np.isfinite(v):
                return 2
        return 0

    @njit(cache=True)
    def _lane_expvals(states, ops, cdata, idata, sk, sv, x, w, gen, block, term_obs, coeffs, masks, phases, out):
        """States and expectation values in place; 1 if ``x`` holds a NaN/inf, 2 if ``w`` does, else 0."""
        bad = _first_nonfinite(x, w)
        if bad:
            return bad
        rows_serial(states, ops, cdata, idata, sk, sv, x, w, gen, block, True)
        pauli_expvals_serial(states, term_obs, coeffs, masks, phases, out)
        return 0


def _same(given: Any, kept: Observable) -> bool:
    """``given`` is the kept observable or an equal one (a loop that builds ``Z(0)`` anew each call)."""
    return given is kept or (isinstance(given, Observable) and given == kept)


class SmallLane:
    """Cached arguments of one (circuit, observables) pair for repeated expectation values (final class).

    Args:
        circuit: the circuit, as passed to ``Simulator.expval``.
        observables: the observables argument exactly as passed (one ``Observable`` or a list).
        plan: the circuit's :class:`FastPlan` (small state: ``num_wires <= chunk_bits``).
        packed: ``plan.pauli_observables(...)`` of the observables (Pauli sums only).
    """

    def __init__(self, circuit: Circuit, observables: Observable | Sequence[Observable], plan: FastPlan, packed: Any):
        self.circuit = circuit
        self.key = circuit.key
        self.is_list = isinstance(observables, (list, tuple))
        self.observables = tuple(observables) if self.is_list else observables
        self.num_observables = len(self.observables) if self.is_list else 1
        self.plan = plan
        self.packed = packed
        self.num_inputs = circuit.num_inputs
        self.num_weights = circuit.num_weights
        self.max_rows = max(1, MAX_LANE_AMPLITUDES >> plan.num_wires)
        self.block = max(1, (2048 * 16 // np.dtype(plan.dtype).itemsize) >> plan.num_wires)
        # angles that are not affine in one symbol, and gates without a numba builder, are
        # evaluated in Python per call (rare in QML loops)
        self.has_general_angles = plan.needs_row_values
        self._no_x = np.zeros((1, 0))
        self._no_gen = np.zeros((self.max_rows, 0))
        self._no_w = np.zeros(0)

    def matches(self, circuit: Circuit, observables: Any, x: Any, weights: Any) -> bool:
        """Whether this lane may run the call: the same circuit object, equal observables, float64 arrays of the right shapes."""
        if circuit is not self.circuit or circuit.key is not self.key:
            return False
        if self.is_list:
            if not isinstance(observables, (list, tuple)) or len(observables) != self.num_observables:
                return False
            # equal observables give equal results: a loop that builds Z(0) anew each call still matches
            if not all(_same(a, b) for a, b in zip(observables, self.observables)):
                return False
        elif not _same(observables, self.observables):
            return False
        if x is None:
            if self.num_inputs:
                return False
        elif type(x) is not np.ndarray or x.dtype != np.float64 or x.shape[-1] != self.num_inputs:
            return False
        elif x.ndim != 1 and (x.ndim != 2 or x.shape[0] > self.max_rows or x.shape[0] == 0):
            return False
        if weights is None:
            return self.num_weights == 0
        return type(weights) is np.ndarray and weights.dtype == np.float64 and weights.shape == (self.num_weights,)

    def expval(self, x: np.ndarray | None, weights: np.ndarray | None) -> Any:
        """``Simulator.expval``'s result for arguments that :meth:`matches` accepted."""
        single = x is None or x.ndim == 1
        rows = self._no_x if x is None else kernel_floats(x).reshape(-1, self.num_inputs)
        w = self._no_w if weights is None else kernel_floats(weights)
        plan = self.plan
        batch = rows.shape[0]
        if plan.simd_rows(batch):
            # enough rows for the SIMD-rows kernels (no per-row interpreter); the same checks first, in one
            # compiled call (each numpy call costs microseconds when the caches are cold)
            bad = _first_nonfinite(rows, w)
            if bad:
                name = "x" if bad == 1 else "weights"
                raise ValueError(f"{name} contains NaN or infinite values; clean the data before simulating")
            if self.has_general_angles:
                return self._result(plan.direct_expvals(rows, w, self.packed, self.num_observables), single)
            # affine angles only: the inputs are converted already and read no per-row values
            return self._result(plan.converted_expvals(rows, w, self._no_gen[:batch], self.packed, self.num_observables),
                                single)
        if self.has_general_angles:
            rows, w, gen = plan.angle_inputs(rows, w)
        else:
            gen = self._no_gen
        states = np.empty((batch, 1 << plan.num_wires), plan.dtype)
        out = np.zeros((batch, self.num_observables))
        bad = _lane_expvals(states, plan.ops, plan.cdata, plan.idata, plan.sk, plan.sv, rows, w, gen, self.block,
                            *self.packed, out)
        if bad:
            name = "x" if bad == 1 else "weights"
            raise ValueError(f"{name} contains NaN or infinite values; clean the data before simulating")
        return self._result(out, single)

    def _result(self, out: np.ndarray, single: bool) -> Any:
        values = out if self.is_list else out[:, 0]
        return values[0] if single else values
