"""qmlsim: batched, differentiable statevector simulation for quantum machine learning.

Layers (each imports only the ones before it): :mod:`qmlsim.circuits`,
:mod:`qmlsim.simulators`, :mod:`qmlsim.qml`.

>>> import numpy as np
>>> from qmlsim import Circuit, Simulator, Z
>>> c = Circuit(1); x = c.inputs(1); _ = c.rx(x[0], 0)
>>> Simulator().expval(c, Z(0), x=np.array([[0.0], [np.pi]])).round(6).tolist()
[1.0, -1.0]
"""
from qmlsim._version import __version__
from qmlsim.circuits import Circuit, Hermitian, Observable, X, Y, Z
from qmlsim.simulators import Simulator

__all__ = ["__version__", "Circuit", "Observable", "X", "Y", "Z", "Hermitian", "Simulator"]
