"""
QKAN regression against an MLP
==============================

A Kolmogorov-Arnold network whose edges are DARUAN quantum activations, fitted to
``exp(sin(pi x) + y^2)`` and compared with a small MLP of similar size.
"""
import numpy as np

from qmlsim.qml.qkan import MLP, QKAN

rng = np.random.default_rng(0)
X, X_test = rng.uniform(-1, 1, (200, 2)), rng.uniform(-1, 1, (100, 2))


def target(v):
    return np.exp(np.sin(np.pi * v[:, 0]) + v[:, 1] ** 2)


qkan = QKAN([2, 5, 1], reps=3, trainable="all", steps=300).fit(X, target(X))
mlp = MLP([2, 16, 1], steps=300).fit(X, target(X))
for name, model in (("QKAN", qkan), ("MLP", mlp)):
    mse = float(np.mean((model.predict(X_test).ravel() - target(X_test)) ** 2))
    print(f"{name}: {model.param_count} parameters, test MSE {mse:.2e}")
