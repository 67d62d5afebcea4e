"""DARUAN: the single-qubit data re-uploading activation of QKAN (Jiang et al. 2025).

The fast path keeps the qubit state as four real arrays (real and imaginary parts of
``alpha`` and ``beta``) and applies each rotation as a closed-form real update: no 2x2
complex matrix is built per gate. The trigonometry of the trainable angles is computed
once per edge, that of the data angles once per (batch, edge, repetition), or once per
(batch, input) when the pre-processing weights are absent.

Conventions: ``R_P(t) = exp(-i t P / 2)``; each ansatz is a tuple of steps
``(gate, source)`` with ``source`` an integer column of ``theta`` or ``"data"``.
"""
from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from qmlsim.circuits import Circuit, Symbol, arccos

# Each ansatz: (steps of one repetition, steps of the final block, theta columns,
# number of theta rows as a function of reps, data-angle transform).
ANSATZES: dict[str, dict[str, Any]] = {
    "pz": {"block": (("rz", 0), ("ry", 1), ("rz", "data")), "final": (("rz", 0), ("ry", 1)), "cols": 2, "final_row": True},
    "rpz": {"block": (("ry", 0), ("rz", "data")), "final": (("ry", 0),), "cols": 1, "final_row": True},
    "px": {"block": (("rz", 0), ("rx", "data")), "final": (("rz", 0),), "cols": 1, "final_row": True},
    "real": {"block": (("x", None), ("ry", 0), ("z", None), ("ry", "data")), "final": (), "cols": 1, "final_row": False},
    "mix": {"block": (("rz", 0), ("rx", 1), ("ry", "data")), "final": (("rz", 0), ("rx", 1)), "cols": 2, "final_row": True},
}
MEASURES = ("born", "amplitude")
_HALF_SQRT2 = 0.7071067811865476


def check_ansatz(ansatz: str) -> dict[str, Any]:
    """The step table of ``ansatz``; raises ``ValueError`` naming the known ones."""
    try:
        return ANSATZES[ansatz]
    except (KeyError, TypeError):
        raise ValueError(f"unknown ansatz {ansatz!r}; choose one of {', '.join(ANSATZES)}") from None


def check_measure(measure: str) -> str:
    """``measure`` itself if known; raises ``ValueError`` otherwise."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measurement mode {measure!r}; choose 'born' (<Z>, runs on hardware) or 'amplitude' (|alpha| - |beta|)")
    return measure


def theta_shape(reps: int, ansatz: str = "pz") -> tuple[int, int]:
    """Shape ``(rows, cols)`` of one edge's circuit angles.

    >>> theta_shape(3), theta_shape(3, "real")
    ((4, 2), (3, 1))
    """
    spec = check_ansatz(ansatz)
    return (reps + 1 if spec["final_row"] else reps, spec["cols"])


def _data_angle(ansatz: str, enc: Any, xp: Any) -> Any:
    # px encodes arccos(w x + b), as the reference package does; clipped to stay real
    return xp.arccos(xp.clip(enc, -1.0, 1.0)) if ansatz == "px" else enc


def _rot(gate: str, state: tuple, c: Any, s: Any) -> tuple:
    """Apply ``R_gate`` with ``c = cos(t/2)``, ``s = sin(t/2)`` to the real-split state."""
    ar, ai, br, bi = state
    if gate == "rz":  # alpha e^{-it/2}, beta e^{+it/2}
        return ar * c + ai * s, ai * c - ar * s, br * c - bi * s, bi * c + br * s
    if gate == "ry":  # [[c, -s], [s, c]]
        return c * ar - s * br, c * ai - s * bi, s * ar + c * br, s * ai + c * bi
    # rx: [[c, -i s], [-i s, c]]
    return c * ar + s * bi, c * ai - s * br, c * br + s * ai, c * bi - s * ar


def _fixed(gate: str, state: tuple) -> tuple:
    ar, ai, br, bi = state
    if gate == "x":
        return br, bi, ar, ai
    return ar, ai, -br, -bi  # z


def daruan(
    params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born"
) -> Any:
    """DARUAN activation values of a whole set of edges at once (pure, jittable).

    The circuit of one edge (ansatz ``pz``) is ``H``, then per repetition ``l``
    ``RZ(theta[l,0])``, ``RY(theta[l,1])``, ``RZ(w[l] x + b[l])``, then ``RZ(theta[r,0])``,
    ``RY(theta[r,1])``; ``measure="born"`` (default) returns the Born-rule ``<Z>`` =
    ``|alpha|^2 - |beta|^2`` (what hardware estimates), ``"amplitude"`` returns the
    reference package's default ``|alpha| - |beta|``.

    Args:
        params: ``{"theta": (*edges, rows, cols)}`` with ``(rows, cols) = theta_shape(reps,
            ansatz)``, and optionally ``"w"``, ``"b"`` of shape ``(*edges, reps)`` (absent
            means ``w = 1``, ``b = 0``: the data angle is ``x`` itself).
        x: inputs broadcastable to ``(batch, *edges)``, e.g. ``(batch, 1, n_in)`` for a
            layer whose edges are ``(n_out, n_in)``. float32 or float64.
        reps: number of data re-uploadings ``r >= 1``.
        ansatz: ``"pz"`` (default), ``"rpz"``, ``"px"``, ``"real"`` or ``"mix"``.
        measure: ``"born"`` (default) or ``"amplitude"``.

    Returns:
        ``(batch, *edges)`` real array of the dtype of ``x``.

    Raises:
        ValueError: unknown ansatz or measurement mode, ``reps < 1``.

    Example:
        >>> import numpy as np
        >>> theta = np.zeros((1, 4, 2), np.float32)        # one edge, reps=3
        >>> out = daruan({"theta": theta}, np.float32([[0.0], [np.pi / 2]]), reps=3)
        >>> np.round(np.asarray(out), 4).tolist()           # H then RZs: <Z> = 0
        [[0.0], [0.0]]
    """
    spec = check_ansatz(ansatz)
    check_measure(measure)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    xp = jnp
    x = xp.asarray(x)
    dtype = x.dtype if xp.issubdtype(x.dtype, xp.floating) else xp.float32
    x = x.astype(dtype)
    theta = xp.asarray(params["theta"], dtype)
    half = theta * 0.5
    ct, st = xp.cos(half), xp.sin(half)  # once per edge
    w, b = params.get("w"), params.get("b")
    if w is None and b is None:
        enc = x[..., None]  # (batch, *, 1): one angle per input, shared by all reps and outputs
    else:
        enc = x[..., None]
        if w is not None:
            enc = enc * xp.asarray(w, dtype)
        if b is not None:
            enc = enc + xp.asarray(b, dtype)
    half_data = _data_angle(ansatz, enc, xp) * 0.5
    cd, sd = xp.cos(half_data), xp.sin(half_data)  # once per (batch, edge, rep)
    shared = cd.shape[-1] == 1
    v = xp.asarray(_HALF_SQRT2, dtype)
    state = (v, xp.zeros((), dtype), v, xp.zeros((), dtype))  # H|0>
    for layer in range(reps):
        for gate, src in spec["block"]:
            if src is None:
                state = _fixed(gate, state)
            elif src == "data":
                k = 0 if shared else layer
                state = _rot(gate, state, cd[..., k], sd[..., k])
            else:
                state = _rot(gate, state, ct[..., layer, src], st[..., layer, src])
    for gate, src in spec["final"]:
        state = _rot(gate, state, ct[..., reps, src], st[..., reps, src])
    ar, ai, br, bi = state
    pa, pb = ar * ar + ai * ai, br * br + bi * bi
    if measure == "born":
        out = pa - pb
    else:
        out = xp.sqrt(pa) - xp.sqrt(pb)
    return xp.broadcast_to(out, xp.broadcast_shapes(out.shape, x.shape)).astype(dtype)


def daruan_numpy(
    params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born"
) -> np.ndarray:
    """:func:`daruan` evaluated with NumPy (no JAX dispatch; for small forward passes).

    Same arguments and result as :func:`daruan`.

    >>> import numpy as np
    >>> daruan_numpy({"theta": np.zeros((1, 2, 2))}, np.zeros((2, 1)), reps=1).shape
    (2, 1)
    """
    spec = check_ansatz(ansatz)
    check_measure(measure)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float32
    x = x.astype(dtype, copy=False)
    half = np.asarray(params["theta"], dtype) * dtype.type(0.5)
    ct, st = np.cos(half), np.sin(half)
    enc = x[..., None]
    if params.get("w") is not None:
        enc = enc * np.asarray(params["w"], dtype)
    if params.get("b") is not None:
        enc = enc + np.asarray(params["b"], dtype)
    half_data = _data_angle(ansatz, enc, np) * dtype.type(0.5)
    cd, sd = np.cos(half_data), np.sin(half_data)
    shared = cd.shape[-1] == 1
    v = dtype.type(_HALF_SQRT2)
    state = (v, dtype.type(0), v, dtype.type(0))
    for layer in range(reps):
        for gate, src in spec["block"]:
            if src is None:
                state = _fixed(gate, state)
            elif src == "data":
                k = 0 if shared else layer
                state = _rot(gate, state, cd[..., k], sd[..., k])
            else:
                state = _rot(gate, state, ct[..., layer, src], st[..., layer, src])
    for gate, src in spec["final"]:
        state = _rot(gate, state, ct[..., reps, src], st[..., reps, src])
    ar, ai, br, bi = state
    pa, pb = ar * ar + ai * ai, br * br + bi * bi
    out = pa - pb if measure == "born" else np.sqrt(pa) - np.sqrt(pb)
    return np.broadcast_to(out, np.broadcast_shapes(np.shape(out), x.shape)).astype(dtype, copy=False)


def daruan_circuit(reps: int, ansatz: str = "pz", wire: int = 0, num_wires: int = 1, circuit: Circuit | None = None,
                   input_index: int = 0, preact: bool = True) -> Circuit:
    """The DARUAN circuit of one edge as a qmlsim :class:`~qmlsim.circuits.Circuit`.

    Weights are laid out as ``theta`` (row-major, ``theta_shape(reps, ansatz)``), then
    ``w`` (``reps``), then ``b`` (``reps``) when ``preact``; the input is ``x[input_index]``.
    Passing ``circuit`` appends to it on ``wire`` (declaring fresh weights, and inputs
    up to ``input_index`` if missing), which is how many edges are packed on one device.

    Args:
        reps: repetitions ``r >= 1``.
        ansatz: as in :func:`daruan`.
        wire: the wire to act on.
        num_wires: width of a new circuit (ignored when ``circuit`` is given).
        circuit: an existing circuit to append to.
        input_index: which input feeds this edge.
        preact: declare the ``w``, ``b`` weights (else the data angle is ``x``).

    Returns:
        The circuit (the one passed in, or a new one).

    >>> c = daruan_circuit(2)
    >>> c.num_inputs, c.num_weights
    (1, 10)
    """
    spec = check_ansatz(ansatz)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    c = circuit if circuit is not None else Circuit(num_wires)
    if c.num_inputs <= input_index:
        c.inputs(input_index + 1 - c.num_inputs)
    x = Symbol("x", input_index)
    rows, cols = theta_shape(reps, ansatz)
    theta = c.weights(rows * cols)
    wb = c.weights(2 * reps) if preact else None
    gates = {"rz": c.rz, "ry": c.ry, "rx": c.rx}
    c.h(wire)
    for layer in range(reps):
        for gate, src in spec["block"]:
            if src is None:
                getattr(c, gate)(wire)
            elif src == "data":
                enc = wb[layer] * x + wb[reps + layer] if preact else x
                gates[gate](arccos(enc) if ansatz == "px" else enc, wire)
            else:
                gates[gate](theta[layer * cols + src], wire)
    for gate, src in spec["final"]:
        gates[gate](theta[reps * cols + src], wire)
    return c
