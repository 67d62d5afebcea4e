"""``PennyLaneExecutor``: run qmlsim circuits on any PennyLane device with the ``Executor`` interface.

A call converts the circuit once into one PennyLane tape whose gate angles are the
evaluated angle expressions, with a whole batch of input rows as PennyLane parameter
broadcasting; the device executes that one tape (devices without native broadcasting
split it themselves). Jacobians are computed by PennyLane (parameter-shift and finite
differences as gradient transforms over the batch, ``"adjoint"``/``"backprop"``/``"best"``
through the device's own derivatives) with respect to the tape's angles, then carried to
inputs or weights by the chain rule through qmlsim's symbolic angle derivatives.

>>> import numpy as np
>>> import pennylane as qml
>>> from qmlsim.circuits import Circuit, Z
>>> c = Circuit(1); x = c.inputs(1); _ = c.rx(x[0], 0)
>>> ex = PennyLaneExecutor(qml.device("default.qubit"))
>>> ex.expval(c, Z(0), x=np.array([[0.0], [np.pi]])).round(6).tolist()
[1.0, -1.0]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.convert import require
from qmlsim.circuits.convert.pennylane import pennylane_gate_set, to_pennylane, to_pennylane_observable
from qmlsim.circuits.observables import Observable
from qmlsim.simulators.calls import prepare_call
from qmlsim.simulators.gradients import chain_rule, circuit_partials
from qmlsim.simulators.validation import check_shots

qml = require("pennylane", "pennylane")

__all__ = ["PennyLaneExecutor"]

_TRANSFORM_METHODS = {
    "parameter-shift": lambda: qml.gradients.param_shift,
    "finite-diff": lambda: qml.gradients.finite_diff,
    "hadamard": lambda: qml.gradients.hadamard_grad,
}
_DEVICE_METHODS = ("adjoint", "backprop", "best", "device")


class PennyLaneExecutor:
    """Runs qmlsim circuits on a PennyLane device (final class); satisfies the ``Executor`` protocol.

    Args:
        device: a PennyLane device (``qml.device("default.qubit")``,
            ``qml.device("lightning.qubit", wires=n)``, a hardware plugin...). qmlsim wire
            ``i`` is the device's ``i``-th wire label (or ``i`` when it has none).

    Shapes are those of :class:`qmlsim.simulators.Simulator`: a 2-D ``x`` of ``batch``
    rows gives a leading batch axis, a 1-D or absent ``x`` none.

    Example:
        >>> import pennylane as qml
        >>> from qmlsim.circuits import Circuit
        >>> c = Circuit(2); _ = c.h(0).cx(0, 1)
        >>> PennyLaneExecutor(qml.device("default.qubit", wires=2)).probs(c).round(3).tolist()
        [0.5, 0.0, 0.0, 0.5]
    """

    def __init__(self, device: Any):
        if not isinstance(device, qml.devices.Device):
            raise TypeError(
                f"PennyLaneExecutor needs a PennyLane device such as qml.device('default.qubit'), got {type(device).__name__}"
            )
        self.device = device

    def __repr__(self) -> str:
        return f"PennyLaneExecutor({self.device!r})"

    # --- validation -------------------------------------------------------------------
    def _labels(self, circuit: Circuit) -> list:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"expected a qmlsim Circuit, got {type(circuit).__name__}")
        wires = self.device.wires
        if wires is None:
            return list(range(circuit.num_wires))
        if len(wires) < circuit.num_wires:
            raise ValueError(
                f"the circuit has {circuit.num_wires} wires but the device has {len(wires)}; "
                f"create the device with wires={circuit.num_wires} or more"
            )
        return list(wires)[: circuit.num_wires]

    def _run(self, circuit: Circuit, x: np.ndarray, weights: np.ndarray, measurements: list, shots: Any = None) -> Any:
        labels = self._labels(circuit)
        tape = qml.tape.QuantumScript(to_pennylane(circuit, x, weights, wire_labels=labels), measurements, shots=shots)
        (result,) = qml.execute([tape], self.device, diff_method=None)
        return result, tape

    @staticmethod
    def _batched(value: Any, tape: Any, batch: int) -> np.ndarray:
        """Give a result a leading batch axis even when no angle depended on the inputs."""
        value = np.asarray(value)
        if tape.batch_size is None:
            return np.broadcast_to(value, (batch,) + value.shape).copy()
        return value

    def _seed(self, seed: Any) -> None:
        if seed is None:
            return
        if not hasattr(self.device, "_rng"):
            raise ValueError(f"{self.device.name} takes its seed at construction: qml.device(..., seed=...); pass seed=None here")
        # default.qubit and qmlsim.statevector draw samples from this generator
        self.device._rng = np.random.default_rng(seed)

    # --- Executor interface -----------------------------------------------------------
    def probs(self, circuit: Circuit, x: Any = None, weights: Any = None, wires: Sequence[int] | None = None) -> np.ndarray:
        """Probabilities ``(batch, 2**k)`` of ``wires`` (all by default, first wire most significant)."""
        labels = self._labels(circuit)
        call = prepare_call(circuit, x, weights, wires=wires)
        wires = list(range(circuit.num_wires)) if wires is None else list(call.wires)
        result, tape = self._run(circuit, call.rows, call.weights, [qml.probs(wires=[labels[i] for i in wires])])
        return call.result(self._batched(result, tape, call.batch))

    def expval(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        shots: int | None = None,
        seed: int | None = None,
    ) -> np.ndarray:
        """Expectation values ``(batch,)``, or ``(batch, k)`` for a list of ``k`` observables; sampled with ``shots``."""
        labels = self._labels(circuit)
        call = prepare_call(circuit, x, weights, observables=observables, shots=shots)
        self._seed(seed)
        measurements = [qml.expval(to_pennylane_observable(o, labels)) for o in call.observables]
        result, tape = self._run(circuit, call.rows, call.weights, measurements, call.shots)
        values = [self._batched(r, tape, call.batch) for r in (result if len(measurements) > 1 else [result])]
        return call.result(np.stack(values, axis=1), observables=True)

    def sample(self, circuit: Circuit, shots: int, x: Any = None, weights: Any = None, seed: int | None = None) -> np.ndarray:
        """Bits ``(batch, shots, num_wires)`` in wire order; ``(shots, num_wires)`` for a 1-D or absent ``x``."""
        labels = self._labels(circuit)
        call = prepare_call(circuit, x, weights, shots=check_shots(shots))
        self._seed(seed)
        result, tape = self._run(circuit, call.rows, call.weights, [qml.sample(wires=labels)], call.shots)
        out = self._batched(result, tape, call.batch).astype(np.int64)
        return call.result(out.reshape(call.batch, call.shots, circuit.num_wires))

    def jacobian(
        self,
        circuit: Circuit,
        observables: Observable | Sequence[Observable],
        x: Any = None,
        weights: Any = None,
        method: str = "parameter-shift",
        argnum: str = "weights",
    ) -> np.ndarray:
        """Jacobian of expectation values: ``(batch, P)``, or ``(batch, k, P)`` for ``k`` observables.

        Args:
            method: ``"parameter-shift"`` (default; works on hardware), ``"finite-diff"``,
                ``"hadamard"``, or a device method: ``"adjoint"``, ``"backprop"``, ``"best"``.
            argnum: ``"weights"`` (``P = num_weights``) or ``"x"`` (``P = num_inputs``).
        """
        if method not in _TRANSFORM_METHODS and method not in _DEVICE_METHODS:
            raise ValueError(f"unknown gradient method {method!r}; choose one of {', '.join([*_TRANSFORM_METHODS, *_DEVICE_METHODS])}")
        labels = self._labels(circuit)
        call = prepare_call(circuit, x, weights, observables=observables, argnum=argnum)
        rows, w, batch = call.rows, call.weights, call.batch
        measurements = [qml.expval(to_pennylane_observable(o, labels)) for o in call.observables]
        # the tape's parameters are the angles of the circuit in PennyLane's gate set
        circuit = pennylane_gate_set(circuit)
        _, symbols, partials = circuit_partials(circuit, argnum, rows, w)
        # only angles that depend on the differentiated symbols are trainable tape parameters
        active = sorted(partials.slots)
        angle_jac = np.zeros((batch, len(measurements), len(active)))
        if active:
            angle_jac = self._angle_jacobian(circuit, rows, w, measurements, labels, active, method)  # (batch, k, len(active))
        return call.result(chain_rule(angle_jac, active, partials, batch, len(symbols)), observables=True)

    def _angle_jacobian(
        self, circuit: Circuit, rows: np.ndarray, w: np.ndarray, measurements: list, labels: list, active: list[int], method: str
    ) -> np.ndarray:
        """``d <O_k> / d angle_a`` per row: ``(batch, k, len(active))``."""
        batch = rows.shape[0]
        ops = to_pennylane(circuit, rows, w, wire_labels=labels)
        tape = qml.tape.QuantumScript(ops, measurements)
        params = tape.get_parameters(trainable_only=False)
        # tape parameters are exactly the circuit's angles in order (user matrices come after)
        angle_index = [i for i, p in enumerate(params) if np.ndim(p) <= 1]
        trainable = [angle_index[j] for j in active]
        k = len(measurements)
        out = np.zeros((batch, k, len(active)))
        if method in _TRANSFORM_METHODS:
            # gradient transforms cannot differentiate broadcast parameters: one tape per row,
            # all shifted tapes of all rows in one execution
            row_tapes = qml.transforms.broadcast_expand(tape)[0] if tape.batch_size else [tape]
            transform = _TRANSFORM_METHODS[method]()
            batches, posts = [], []
            for row_tape in row_tapes:
                row_tape.trainable_params = trainable
                tapes, post = transform(row_tape)
                batches.append(tapes)
                posts.append(post)
            results = qml.execute([t for tapes in batches for t in tapes], self.device, diff_method=None)
            start = 0
            for row, (tapes, post) in enumerate(zip(batches, posts)):
                jac = _nested(post(results[start : start + len(tapes)]), k, len(active))
                start += len(tapes)
                rows_out = slice(None) if len(row_tapes) == 1 else row
                for m in range(k):
                    for a in range(len(active)):
                        out[rows_out, m, a] = np.asarray(jac[m][a], dtype=float)
            return out
        jac = self._device_jacobian(tape, trainable, method)
        for m in range(k):
            for a in range(len(active)):
                out[:, m, a] = np.broadcast_to(np.asarray(jac[m][a], dtype=float), (batch,))
        return out

    def _device_jacobian(self, tape: Any, trainable: list[int], method: str) -> Any:
        """Derivatives from the device (adjoint, backprop) through PennyLane's autograd interface."""
        params = tape.get_parameters(trainable_only=False)
        flat = qml.numpy.array(np.concatenate([np.atleast_1d(np.asarray(params[i], dtype=float)) for i in trainable]), requires_grad=True)
        sizes = [int(np.size(params[i])) for i in trainable]
        offsets = np.cumsum([0] + sizes)
        batch = tape.batch_size or 1
        k = len(tape.measurements)

        def run(values: Any) -> Any:
            new = list(params)
            for n, i in enumerate(trainable):
                piece = values[offsets[n] : offsets[n + 1]]
                new[i] = piece if np.ndim(params[i]) else piece[0]
            bound = tape.bind_new_parameters(new, list(range(len(params))))
            (res,) = qml.execute([bound], self.device, diff_method=method)
            res = res if k > 1 else (res,)
            return qml.math.stack([qml.math.reshape(r, (-1,)) * qml.math.ones(batch) for r in res])  # (k, batch)

        full = np.asarray(qml.jacobian(run)(flat))  # (k, batch, sum(sizes))
        jac = []
        for m in range(k):
            per_angle = []
            for n in range(len(trainable)):
                block = full[m, :, offsets[n] : offsets[n + 1]]
                per_angle.append(np.diagonal(block) if sizes[n] > 1 else block[:, 0])
            jac.append(per_angle)
        return jac


def _nested(jac: Any, k: int, num_params: int) -> list[list[Any]]:
    """PennyLane's squeezed Jacobian layout as ``[measurement][parameter]``."""
    if k == 1:
        jac = (jac,)
    return [list(j) if num_params > 1 else [j] for j in jac]

