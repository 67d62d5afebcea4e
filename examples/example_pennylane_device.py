"""
qmlsim as a PennyLane device
============================

``qml.device("qmlsim.statevector")`` runs PennyLane QNodes on qmlsim's engine, with
adjoint derivatives; the results match ``default.qubit``.
"""
import pennylane as qml
from pennylane import numpy as pnp


def make(device):
    @qml.qnode(device, diff_method="adjoint")
    def circuit(weights):
        qml.RY(weights[0], wires=0)
        qml.CNOT(wires=[0, 1])
        qml.RX(weights[1], wires=1)
        return qml.expval(qml.PauliZ(0) @ qml.PauliZ(1))

    return circuit


weights = pnp.array([0.4, -0.7], requires_grad=True)
for name in ("qmlsim.statevector", "default.qubit"):
    f = make(qml.device(name, wires=2))
    print(f"{name:20s} value {float(f(weights)):+.6f} gradient {qml.grad(f)(weights)}")
