"""
qmlsim's Qiskit primitives under qiskit-machine-learning
========================================================

``QmlsimEstimator`` and ``QmlsimSampler`` are Qiskit V2 primitives backed by the engine,
so qiskit-machine-learning's QNNs and fidelity kernels run on qmlsim unchanged.
"""
import numpy as np
from qiskit.circuit.library import real_amplitudes, zz_feature_map
from qiskit_machine_learning.kernels import FidelityQuantumKernel
from qiskit_machine_learning.neural_networks import EstimatorQNN
from qiskit_machine_learning.state_fidelities import ComputeUncompute

from qmlsim.simulators import QmlsimEstimator, QmlsimSampler

fm, ansatz = zz_feature_map(2), real_amplitudes(2, reps=1)
qnn = EstimatorQNN(circuit=fm.compose(ansatz), estimator=QmlsimEstimator(), input_params=list(fm.parameters),
                   weight_params=list(ansatz.parameters), default_precision=0.0)
x = np.random.default_rng(0).uniform(0, np.pi, (4, 2))
forward = qnn.forward(x, np.full(ansatz.num_parameters, 0.3))
_, weight_grad = qnn.backward(x, np.full(ansatz.num_parameters, 0.3))
print("QNN forward", forward.ravel().round(4), "weight gradient", weight_grad.shape)

kernel = FidelityQuantumKernel(feature_map=fm, fidelity=ComputeUncompute(sampler=QmlsimSampler(default_shots=4000, seed=1)))
print("sampled kernel matrix\n", kernel.evaluate(x).round(3))
