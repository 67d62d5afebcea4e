"""Differentiate through a NumPy- or CuPy-backed simulator from JAX code (``jax.custom_vjp``).

The forward pass runs on the host engine through ``jax.pure_callback``; the backward
pass is one adjoint sweep for the weights and one for the inputs. Hybrid models can
then backpropagate from a JAX loss through the quantum layer into classical layers.

>>> import jax, jax.numpy as jnp, numpy as np
>>> from qmlsim.circuits import Circuit, Z
>>> from qmlsim.simulators import Simulator
>>> c = Circuit(1); x = c.inputs(1); w = c.weights(1); _ = c.ry(x[0] * w[0], 0)
>>> f = jax_expval(Simulator(), c, Z(0))
>>> g = jax.grad(lambda w: f(jnp.array([[0.5]]), w).sum())(jnp.array([1.0]))
>>> bool(np.isclose(g[0], -0.5 * np.sin(0.5), atol=1e-6))
True
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.observables import Observable

__all__ = ["jax_expval"]


def jax_expval(
    simulator: Any,
    circuit: Circuit,
    observables: Observable | Sequence[Observable],
    method: str = "adjoint",
) -> Callable[[Any, Any], Any]:
    """Wrap ``simulator.expval`` as a JAX function of ``(x, weights)`` with a custom VJP.

    Args:
        simulator: any executor with ``expval`` and ``jacobian`` (a NumPy or CuPy
            :class:`~qmlsim.simulators.Simulator`, or a hardware executor with
            ``method="parameter-shift"``).
        circuit: the circuit.
        observables: one observable, or a list.
        method: gradient method passed to ``simulator.jacobian``.

    Returns:
        ``f(x, weights)`` with ``x`` of shape ``(batch, num_inputs)`` and ``weights``
        ``(num_weights,)``, returning ``(batch,)`` (one observable) or ``(batch, k)``.
    """
    import jax  # noqa: PLC0415 - JAX is needed only for this bridge
    import jax.numpy as jnp  # noqa: PLC0415

    is_list = isinstance(observables, (list, tuple))
    obs_list = list(observables) if is_list else [observables]
    out_dtype = jnp.result_type(float)

    def host_expval(x: Any, w: Any) -> np.ndarray:
        values = simulator.expval(circuit, obs_list, x=np.asarray(x), weights=_weights(w))
        return np.asarray(values, dtype=out_dtype)

    def host_jacobians(x: Any, w: Any) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x)
        if circuit.num_weights:
            jw = simulator.jacobian(circuit, obs_list, x=x, weights=_weights(w), method=method, argnum="weights")
        else:  # nothing to differentiate: skip a whole backward sweep
            jw = np.zeros((x.shape[0], len(obs_list), 0))
        if circuit.num_inputs:
            jx = simulator.jacobian(circuit, obs_list, x=x, weights=_weights(w), method=method, argnum="x")
        else:
            jx = np.zeros((x.shape[0], len(obs_list), 0))
        return np.asarray(jw, dtype=out_dtype), np.asarray(jx, dtype=out_dtype)

    def _weights(w: Any) -> Any:
        return np.asarray(w) if circuit.num_weights else None

    def shapes(x: Any, w: Any) -> tuple:
        batch = x.shape[0]
        k = len(obs_list)
        return (
            jax.ShapeDtypeStruct((batch, k), out_dtype),
            (
                jax.ShapeDtypeStruct((batch, k, circuit.num_weights), out_dtype),
                jax.ShapeDtypeStruct((batch, k, circuit.num_inputs), out_dtype),
            ),
        )

    @jax.custom_vjp
    def f(x: Any, w: Any) -> Any:
        return jax.pure_callback(host_expval, shapes(x, w)[0], x, w, vmap_method="sequential")

    def f_fwd(x: Any, w: Any) -> tuple:
        return f(x, w), (x, w)

    def f_bwd(residuals: tuple, cotangent: Any) -> tuple:
        x, w = residuals
        jw, jx = jax.pure_callback(host_jacobians, shapes(x, w)[1], x, w, vmap_method="sequential")
        dw = jnp.einsum("bk,bkp->p", cotangent, jw).astype(w.dtype)
        dx = jnp.einsum("bk,bki->bi", cotangent, jx).astype(x.dtype)
        return dx, dw

    f.defvjp(f_fwd, f_bwd)

    def wrapped(x: Any, weights: Any) -> Any:
        x = jnp.asarray(x, dtype=out_dtype)
        if x.ndim != 2 or x.shape[1] != circuit.num_inputs:
            raise ValueError(f"x must have shape (batch, {circuit.num_inputs}), got {tuple(x.shape)}")
        weights = jnp.asarray(weights, dtype=out_dtype).reshape(-1)
        values = f(x, weights)
        return values if is_list else values[:, 0]

    return wrapped
