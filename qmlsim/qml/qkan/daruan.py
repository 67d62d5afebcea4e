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

from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from qmlsim.circuits import Circuit, Symbol, arccos

Step = tuple  # (gate, source): gate "rz"/"ry"/"rx" (rotations) or "x"/"z" (fixed); source a theta column, "data" or None


@dataclass(frozen=True)
class Ansatz:
    """One DARUAN ansatz as data.

    Attributes:
        block: the steps of one repetition.
        final: the steps of the closing block (after the last repetition).
        cols: columns of ``theta`` (circuit angles per repetition).
        final_row: whether the closing block has its own row of ``theta``.
    """

    block: tuple[Step, ...]
    final: tuple[Step, ...]
    cols: int
    final_row: bool

    def __getitem__(self, name: str) -> Any:  # the mapping form of the first release: ANSATZES["pz"]["block"]
        return getattr(self, name)


ANSATZES: dict[str, Ansatz] = {
    "pz": Ansatz((("rz", 0), ("ry", 1), ("rz", "data")), (("rz", 0), ("ry", 1)), 2, True),
    "rpz": Ansatz((("ry", 0), ("rz", "data")), (("ry", 0),), 1, True),
    "px": Ansatz((("rz", 0), ("rx", "data")), (("rz", 0),), 1, True),
    "real": Ansatz((("x", None), ("ry", 0), ("z", None), ("ry", "data")), (), 1, False),
    "mix": Ansatz((("rz", 0), ("rx", 1), ("ry", "data")), (("rz", 0), ("rx", 1)), 2, True),
}
MEASURES = ("born", "amplitude")
_HALF_SQRT2 = 0.7071067811865476


def check_ansatz(ansatz: str) -> Ansatz:
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
    return (reps + 1 if spec.final_row else reps, spec.cols)


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
    check_ansatz(ansatz)
    check_measure(measure)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    x = jnp.asarray(x)
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    # XLA on CPU runs this (and its transpose, the batch reductions of the gradient)
    # several times faster with the batch axis last
    x_last = jnp.moveaxis(x.astype(dtype), 0, -1)
    out = daruan_batch_last(params, x_last, reps, ansatz, measure)
    edges = jnp.broadcast_shapes(x.shape[1:], jnp.shape(params["theta"])[:-2])
    return jnp.moveaxis(jnp.broadcast_to(out, edges + (x.shape[0],)), -1, 0)


def daruan_batch_last(params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born") -> Any:
    """:func:`daruan` with the batch axis last: ``x`` broadcastable to ``(*edges, batch)``.

    No validation (callers validate); returns ``(*edges, batch)``.

    >>> import numpy as np
    >>> daruan_batch_last({"theta": np.zeros((3, 2, 2, 2))}, np.zeros((2, 5), np.float32), 1).shape
    (3, 2, 5)
    """
    dtype = x.dtype
    w, b = params.get("w"), params.get("b")
    return _forward(jnp.asarray(params["theta"], dtype), None if w is None else jnp.asarray(w, dtype),
                    None if b is None else jnp.asarray(b, dtype), x, reps, ansatz, measure, jnp)


def daruan_numpy(
    params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born"
) -> np.ndarray:
    """:func:`daruan` evaluated with NumPy (no JAX dispatch; for small forward passes).

    Same arguments and result as :func:`daruan`.

    >>> import numpy as np
    >>> daruan_numpy({"theta": np.zeros((1, 2, 2))}, np.zeros((2, 1)), reps=1).shape
    (2, 1)
    """
    check_ansatz(ansatz)
    check_measure(measure)
    if reps < 1:
        raise ValueError(f"reps must be >= 1, got {reps}")
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
    x = x.astype(dtype, copy=False)
    w, b = params.get("w"), params.get("b")
    out = _forward(np.asarray(params["theta"], dtype), None if w is None else np.asarray(w, dtype),
                   None if b is None else np.asarray(b, dtype), np.moveaxis(x, 0, -1), reps, ansatz, measure, np)
    edges = np.broadcast_shapes(x.shape[1:], np.shape(params["theta"])[:-2])
    return np.moveaxis(np.broadcast_to(out, edges + (x.shape[0],)), -1, 0).astype(dtype, copy=False)


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
        for gate, src in spec.block:
            if src is None:
                getattr(c, gate)(wire)
            elif src == "data":
                enc = wb[layer] * x + wb[reps + layer] if preact else x
                gates[gate](arccos(enc) if ansatz == "px" else enc, wire)
            else:
                gates[gate](theta[layer * cols + src], wire)
    for gate, src in spec.final:
        gates[gate](theta[reps * cols + src], wire)
    return c


# --- analytic reverse mode ---------------------------------------------------------------
# Autodiff of the gate chain leaves XLA (CPU) many unfused passes; the adjoint method below
# uncomputes the state gate by gate from the final one (rotations are orthogonal in the
# real split), so the backward is about two forward passes plus the batch reductions.
def _generator(gate: str, state: tuple, lam: tuple) -> Any:
    """``<lam, d(R_P(t) psi)/dt>`` in the real split, from ``psi' = R_P(t) psi``: ``-i/2 P psi'``."""
    ar, ai, br, bi = state
    lar, lai, lbr, lbi = lam
    if gate == "rz":
        return 0.5 * (lar * ai - lai * ar - lbr * bi + lbi * br)
    if gate == "ry":
        return 0.5 * (lbr * ar + lbi * ai - lar * br - lai * bi)
    return 0.5 * (lar * bi - lai * br + lbr * ai - lbi * ar)  # rx


def _sum_to(a: Any, shape: tuple) -> Any:
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead else a
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


def _gates(spec: Ansatz, reps: int) -> list[tuple[str, Any, int]]:
    seq = []
    for layer in range(reps):
        seq += [(gate, src, layer) for gate, src in spec.block]
    return seq + [(gate, src, reps) for gate, src in spec.final]


def _trig(theta: Any, w: Any, b: Any, x: Any, ansatz: str, xp: Any = jnp) -> tuple:
    """``cos``/``sin`` of the half angles: circuit angles ``(*edges, rows, cols, 1)``, data angles
    ``(*edges, reps or 1, batch)`` (batch last), and the encoded data ``w x + b``."""
    half = theta * 0.5
    enc = x[..., None, :]  # one angle per input when there are no w, b
    if w is not None:
        enc = enc * w[..., None]
    if b is not None:
        enc = enc + b[..., None]
    angle = _data_angle(ansatz, enc, xp)
    trig = xp.cos(half)[..., None], xp.sin(half)[..., None], xp.cos(angle * 0.5), xp.sin(angle * 0.5)
    if xp is jnp:
        # materialise the trigonometry: XLA's CPU fusion would otherwise recompute sin/cos
        # (slow there) inside every consumer, i.e. per (edge, batch) element and per gate
        trig = jax.lax.optimization_barrier(trig)
    return (*trig, enc)


def _run(spec: Ansatz, reps: int, trig: tuple, dtype: Any, xp: Any = jnp) -> tuple:
    """The final state (real split) of every edge and row, from :func:`_trig`'s tables."""
    ct, st, cd, sd, _ = trig
    shared = cd.shape[-2] == 1
    v = xp.asarray(_HALF_SQRT2, dtype)
    state = (v, xp.zeros((), dtype), v, xp.zeros((), dtype))  # H|0>
    for gate, src, row in _gates(spec, reps):
        if src is None:
            state = _fixed(gate, state)
        elif src == "data":
            k = 0 if shared else row
            state = _rot(gate, state, cd[..., k, :], sd[..., k, :])
        else:
            state = _rot(gate, state, ct[..., row, src, :], st[..., row, src, :])
    return state


def _readout(state: tuple, measure: str, xp: Any = jnp) -> Any:
    ar, ai, br, bi = state
    pa, pb = ar * ar + ai * ai, br * br + bi * bi
    return pa - pb if measure == "born" else xp.sqrt(pa) - xp.sqrt(pb)


def _forward(theta: Any, w: Any, b: Any, x: Any, reps: int, ansatz: str, measure: str, xp: Any) -> Any:
    """The one DARUAN forward, on NumPy or JAX arrays: ``x`` ``(*edges, batch)`` -> ``(*edges, batch)``."""
    return _readout(_run(ANSATZES[ansatz], reps, _trig(theta, w, b, x, ansatz, xp), x.dtype, xp), measure, xp)


def _fast_core(theta: Any, w: Any, b: Any, x: Any, reps: int, ansatz: str, measure: str) -> Any:
    return _forward(theta, w, b, x, reps, ansatz, measure, jnp)


def _fast_fwd(theta: Any, w: Any, b: Any, x: Any, reps: int, ansatz: str, measure: str) -> tuple:
    trig = _trig(theta, w, b, x, ansatz)
    state = _run(ANSATZES[ansatz], reps, trig, x.dtype)
    return _readout(state, measure), (theta, w, b, x, trig, state)


def _fast_bwd(reps: int, ansatz: str, measure: str, res: tuple, g: Any) -> tuple:
    theta, w, b, x, trig, state = res
    spec = ANSATZES[ansatz]
    ct, st, cd, sd, enc = trig
    shared = cd.shape[-2] == 1
    ar, ai, br, bi = state
    if measure == "born":
        lam = (2 * g * ar, 2 * g * ai, -2 * g * br, -2 * g * bi)
    else:
        ra, rb = g / jnp.sqrt(ar * ar + ai * ai), g / jnp.sqrt(br * br + bi * bi)
        lam = (ra * ar, ra * ai, -rb * br, -rb * bi)
    theta_bar = [[None] * theta.shape[-1] for _ in range(theta.shape[-2])]
    data_bar = [None] * reps
    for gate, src, row in reversed(_gates(spec, reps)):
        if src is None:
            state, lam = _fixed(gate, state), _fixed(gate, lam)
            continue
        if src == "data":
            k = 0 if shared else row
            c, s = cd[..., k, :], sd[..., k, :]
        else:
            c, s = ct[..., row, src, :], st[..., row, src, :]
        dt = _generator(gate, state, lam)
        if src == "data":
            data_bar[row] = dt
        else:
            theta_bar[row][src] = dt.sum(axis=-1)
        state, lam = _rot(gate, state, c, -s), _rot(gate, lam, c, -s)
    zero = jnp.zeros(theta.shape[:-2], theta.dtype)
    theta_bar = jnp.stack([jnp.stack([t if t is not None else zero for t in r], -1) for r in theta_bar], -2)
    theta_bar = _sum_to(theta_bar, theta.shape)
    enc_bar = jnp.stack(jnp.broadcast_arrays(*data_bar), axis=-2)  # d out / d angle, (*, reps, batch)
    if ansatz == "px":
        e = jnp.clip(enc, -1.0, 1.0)
        enc_bar = enc_bar * jnp.where(jnp.abs(enc) < 1, -1 / jnp.sqrt(jnp.maximum(1 - e * e, 1e-30)), 0.0)
    w_bar = None if w is None else _sum_to((enc_bar * x[..., None, :]).sum(-1), w.shape)
    b_bar = None if b is None else _sum_to(enc_bar.sum(-1), b.shape)
    x_enc = enc_bar * w[..., None] if w is not None else enc_bar
    x_bar = _sum_to(x_enc.sum(-2), x.shape)
    return theta_bar, w_bar, b_bar, x_bar


_fast = jax.custom_vjp(_fast_core, nondiff_argnums=(4, 5, 6))
_fast.defvjp(_fast_fwd, _fast_bwd)


def daruan_fast(params: dict[str, Any], x: Any, reps: int, ansatz: str = "pz", measure: str = "born") -> Any:
    """:func:`daruan_batch_last` with the analytic (adjoint) reverse mode; same arguments and result.

    >>> import numpy as np
    >>> daruan_fast({"theta": np.zeros((3, 2, 2, 2), np.float32)}, np.zeros((2, 5), np.float32), 1).shape
    (3, 2, 5)
    """
    dtype = x.dtype
    w, b = params.get("w"), params.get("b")
    theta = jnp.asarray(params["theta"], dtype)
    w = None if w is None else jnp.asarray(w, dtype)
    b = None if b is None else jnp.asarray(b, dtype)
    if _layer_layout(theta, w, b, x) and jax.default_backend() == "cpu":
        # on CPU the compiled per-edge kernels beat XLA's many passes (forward and adjoint)
        return _cpu(theta, w, b, x, reps, ansatz, measure)
    return _fast(theta, w, b, x, reps, ansatz, measure)


def _layer_layout(theta: Any, w: Any, b: Any, x: Any) -> bool:
    """Whether the arguments have a layer's shapes: theta ``(O, I, rows, cols)``, x ``(I, B)``, w/b ``(O, I, reps)``."""
    if theta.ndim != 4 or x.ndim != 2 or x.shape[0] != theta.shape[1]:
        return False
    return all(a is None or a.shape[:2] == theta.shape[:2] and a.ndim == 3 for a in (w, b))


# --- compiled CPU path for whole layers ---------------------------------------------------
def _data_rows(n_out: int, n_in: int, shared: bool) -> np.ndarray:
    """Row of the data-angle table each edge ``o * n_in + i`` reads: its input ``i`` when the
    angles are shared by all edges of an input (no ``w``, ``b``), else its own row."""
    edges = np.arange(n_out * n_in)
    return edges % n_in if shared else edges


def _layer_trig(theta: Any, w: Any, b: Any, x: Any, ansatz: str, xp: Any) -> tuple:
    """Kernel inputs of a layer (edges ``(O, I)``, ``x`` ``(I, B)``): ``ct, st (E, rows, cols)``,
    ``cd, sd (D, K, B)``, the encoded angles ``enc`` (before the ansatz's transform) and ``data_row (E,)``."""
    n_out, n_in, rows, cols = theta.shape
    half = theta * 0.5
    ct, st = xp.cos(half).reshape(n_out * n_in, rows, cols), xp.sin(half).reshape(n_out * n_in, rows, cols)
    data_row = _data_rows(n_out, n_in, w is None and b is None)
    if w is None and b is None:
        enc = x[:, None, :]  # (I, 1, B): one data angle per input, shared by its edges
    else:
        enc = x[None, :, None, :]
        if w is not None:
            enc = enc * w[..., None]
        if b is not None:
            enc = enc + b[..., None]
        enc = xp.broadcast_to(enc, (n_out, n_in, w.shape[-1] if w is not None else b.shape[-1], x.shape[-1]))
        enc = enc.reshape(n_out * n_in, enc.shape[2], x.shape[-1])
    half_data = _data_angle(ansatz, enc, xp) * 0.5
    return ct, st, xp.cos(half_data), xp.sin(half_data), enc, data_row


def _kernel_forward(ct: Any, st: Any, cd: Any, sd: Any, data_row: np.ndarray, table: tuple, born: bool) -> np.ndarray:
    from qmlsim.qml.qkan.daruan_kernels import forward  # noqa: PLC0415 - numba compiles on first use

    ct, st, cd, sd = (np.ascontiguousarray(a) for a in (ct, st, cd, sd))
    out = np.empty((data_row.size, cd.shape[-1]), cd.dtype)
    forward(ct, st, cd, sd, data_row, *table, born, out)
    return out


def _kernel_backward(ct: Any, st: Any, cd: Any, sd: Any, g: Any, data_row: np.ndarray, table: tuple, born: bool,
                     reps: int) -> tuple[np.ndarray, np.ndarray]:
    from qmlsim.qml.qkan.daruan_kernels import backward  # noqa: PLC0415

    ct, st, cd, sd, g = (np.ascontiguousarray(a) for a in (ct, st, cd, sd, g))
    theta_bar = np.zeros(ct.shape, ct.dtype)
    data_bar = np.zeros((data_row.size, reps, g.shape[-1]), g.dtype)
    backward(ct, st, cd, sd, data_row, *table, born, g, theta_bar, data_bar)
    return theta_bar, data_bar


def _encoding_bar(data_bar: Any, enc: Any, ansatz: str, xp: Any) -> Any:
    """``d out / d enc`` from ``d out / d (data angle)``: the chain rule through the ansatz's transform."""
    if ansatz != "px":
        return data_bar
    e = xp.clip(enc, -1.0, 1.0)
    return data_bar * xp.where(xp.abs(enc) < 1, -1 / xp.sqrt(xp.maximum(1 - e * e, 1e-30)), 0.0)


def daruan_layer_numpy(params: dict[str, Any], x: np.ndarray, reps: int, ansatz: str = "pz", measure: str = "born") -> np.ndarray:
    """Activations ``(O, I, B)`` of a layer's edges for ``x`` ``(I, B)`` through the compiled kernel (forward only).

    >>> import numpy as np
    >>> daruan_layer_numpy({"theta": np.zeros((3, 2, 4, 2), np.float32)}, np.zeros((2, 5), np.float32), 3).shape
    (3, 2, 5)
    """
    dtype = x.dtype
    theta = np.asarray(params["theta"], dtype)
    w, b = params.get("w"), params.get("b")
    w = None if w is None else np.asarray(w, dtype)
    b = None if b is None else np.asarray(b, dtype)
    ct, st, cd, sd, _, data_row = _layer_trig(theta, w, b, x, ansatz, np)
    from qmlsim.qml.qkan.daruan_kernels import gate_table  # noqa: PLC0415

    out = _kernel_forward(ct, st, cd.astype(dtype, copy=False), sd.astype(dtype, copy=False), data_row,
                          gate_table(ANSATZES[ansatz], reps), measure == "born")
    return out.reshape(theta.shape[0], theta.shape[1], x.shape[-1])


def _cpu_core(theta: Any, w: Any, b: Any, x: Any, reps: int, ansatz: str, measure: str) -> Any:
    # without differentiation XLA's fused forward is as fast as the kernel plus a host callback
    return _fast_core(theta, w, b, x, reps, ansatz, measure)


def _cpu_fwd(theta: Any, w: Any, b: Any, x: Any, reps: int, ansatz: str, measure: str) -> tuple:
    # the output from XLA's forward on the same trigonometry the backward kernel recomputes the states from
    ct, st, cd, sd, enc, _ = jax.lax.optimization_barrier(_layer_trig(theta, w, b, x, ansatz, jnp))
    n_out, n_in, rows, cols = theta.shape
    edges = (n_out, n_in, rows, cols, 1)
    data = (lambda a: a) if (w is None and b is None) else (lambda a: a.reshape(n_out, n_in, -1, x.shape[-1]))
    state = _run(ANSATZES[ansatz], reps, (ct.reshape(edges), st.reshape(edges), data(cd), data(sd), None), x.dtype)
    return _readout(state, measure), (theta, w, b, x, ct, st, cd, sd, enc)


def _cpu_bwd(reps: int, ansatz: str, measure: str, res: tuple, g: Any) -> tuple:
    from qmlsim.qml.qkan.daruan_kernels import gate_table  # noqa: PLC0415

    theta, w, b, x, ct, st, cd, sd, enc = res
    n_out, n_in = theta.shape[:2]
    data_row = _data_rows(n_out, n_in, w is None and b is None)
    table = gate_table(ANSATZES[ansatz], reps)
    born = measure == "born"
    batch = x.shape[-1]
    shapes = (jax.ShapeDtypeStruct(ct.shape, x.dtype), jax.ShapeDtypeStruct((n_out * n_in, reps, batch), x.dtype))
    theta_bar, data_bar = jax.pure_callback(
        lambda *a: _kernel_backward(*a, data_row, table, born, reps), shapes, ct, st, cd, sd,
        g.reshape(n_out * n_in, batch).astype(x.dtype), vmap_method="sequential")
    theta_bar = theta_bar.reshape(theta.shape)
    data_bar = data_bar.reshape(n_out, n_in, reps, batch)
    if w is None and b is None:
        enc_bar = _encoding_bar(data_bar, x[None, :, None, :], ansatz, jnp)
        return theta_bar, None, None, enc_bar.sum(axis=(0, 2))
    enc_bar = _encoding_bar(data_bar, enc.reshape(n_out, n_in, -1, batch), ansatz, jnp)
    w_bar = None if w is None else _sum_to((enc_bar * x[None, :, None, :]).sum(-1), w.shape)
    b_bar = None if b is None else _sum_to(enc_bar.sum(-1), b.shape)
    x_enc = enc_bar * w[..., None] if w is not None else enc_bar
    return theta_bar, w_bar, b_bar, x_enc.sum(axis=(0, 2))


_cpu = jax.custom_vjp(_cpu_core, nondiff_argnums=(4, 5, 6))
_cpu.defvjp(_cpu_fwd, _cpu_bwd)
