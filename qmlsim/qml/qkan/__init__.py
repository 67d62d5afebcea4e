"""QKAN: Kolmogorov-Arnold networks with DARUAN quantum activations (Jiang et al. 2025).

``daruan`` is the activation as a pure JAX function; ``init_qkan``/``apply_qkan`` the
network as pure functions; ``QKAN``, ``HQKAN`` and the baselines ``BSplineKAN``,
``FourierKAN``, ``MLP`` are scikit-learn-style estimators. See ``docs/qkan.md``.
"""
from qmlsim.qml.qkan.daruan import ANSATZES, MEASURES, daruan, daruan_circuit, daruan_numpy, theta_shape
from qmlsim.qml.qkan.layer import apply_layer, apply_qkan, apply_qkan_numpy, init_layer, init_qkan
from qmlsim.qml.qkan.model import HQKAN, QKAN, apply_hqkan, init_hqkan
from qmlsim.qml.qkan.baselines import MLP, BSplineKAN, FourierKAN

__all__ = [
    "ANSATZES", "MEASURES", "daruan", "daruan_circuit", "daruan_numpy", "theta_shape",
    "QKAN", "HQKAN", "init_hqkan", "apply_hqkan", "BSplineKAN", "FourierKAN", "MLP",
    "apply_layer", "apply_qkan", "apply_qkan_numpy", "init_layer", "init_qkan",
]
