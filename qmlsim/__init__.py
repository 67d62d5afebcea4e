"""qmlsim: batched, differentiable statevector simulation for quantum machine learning.

Layers (each imports only the ones before it): :mod:`qmlsim.circuits`,
:mod:`qmlsim.simulators`, :mod:`qmlsim.qml`.
"""
from qmlsim._version import __version__

__all__ = ["__version__"]
