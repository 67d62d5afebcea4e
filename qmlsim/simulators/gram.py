"""Statevector programs and Gram matrices behind the fidelity kernels of :mod:`qmlsim.qml.kernels`.

* The phase-product program: circuits made only of Hadamards, CNOT/SWAP and diagonal
  gates (the ZZ feature map) skip the gate-by-gate engine; their states are built from
  elementwise phase products (:func:`compile_phase_program`).
* :func:`fidelity_gram`: on a statevector device every distinct input row is simulated
  once, batched, and the Gram matrix is ``|S_X^* S_Y^T|^2``, computed in tiles (half of
  them for a symmetric matrix); on a hardware executor every pair runs the
  compute-uncompute circuit ``U(z)^dagger U(x)`` as one row of one batch.

>>> import numpy as np
>>> from qmlsim.circuits.templates import zz_feature_map
>>> from qmlsim.simulators import Simulator
>>> K = fidelity_gram(zz_feature_map(2), np.array([[0.1, 0.2], [0.3, 0.4]]), None, None, Simulator())
>>> K.shape, bool(np.allclose(np.diag(K), 1))
((2, 2), True)
"""
from __future__ import annotations

import contextlib
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from qmlsim.circuits.circuit import Circuit
from qmlsim.circuits.expressions import Expr, compile_expressions
from qmlsim.circuits.gates import GATES
from qmlsim.circuits.templates import compute_uncompute
from qmlsim.simulators.backends import available_memory_bytes

__all__ = ["PhaseProgram", "compile_phase_program", "phase_program_states", "fidelity_gram", "project_psd", "feature_map_states", "host_array"]

# Complex entries of one tile of S_X^* S_Y^T (bounds the kernel's working memory).
_TILE_ENTRIES = 2**23
# Result matrices may use at most this share of available memory.
_RESULT_SHARE = 0.5
# Bits * shots held at once when sampling compute-uncompute circuits.
_SAMPLE_ENTRIES = 2**24


# --------------------------------------------------------------------------------------
# Fast path: Hadamard layers and diagonal phases
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PhaseProgram:
    """A circuit of Hadamards, CNOT/SWAP and diagonal gates as alternating steps.

    Attributes:
        num_wires: number of wires.
        exprs: every gate angle, in order.
        steps: ``("h", wires)`` or ``("phase", columns, G, const)``: a phase step
            multiplies the state by ``exp(i (theta[:, columns] @ G + const))`` with
            ``G`` ``(len(columns), 2**n)`` and ``const`` ``(2**n,)`` real.
    """

    num_wires: int
    exprs: tuple[Expr, ...]
    steps: tuple[tuple, ...]


@functools.lru_cache(maxsize=None)
def _angle_linear(name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``diagonal(t) = exp(i (const + t g))`` -> ``(const, g)``; ``None`` when it is not of that form."""
    gate = GATES[name]
    if gate.diagonal is None:
        return None
    if gate.num_params == 0:
        d = np.asarray(gate.diagonal([], np, np.complex128))
        return np.angle(d), np.zeros_like(d, dtype=float)
    if gate.num_params != 1:
        return None
    d0 = np.asarray(gate.diagonal([0.0], np, np.complex128))
    g = np.angle(np.asarray(gate.diagonal([1.0], np, np.complex128)) / d0)
    for t in (0.37, -2.9):
        if not np.allclose(np.asarray(gate.diagonal([t], np, np.complex128)), d0 * np.exp(1j * t * g), atol=1e-12):
            return None
    return np.angle(d0), g


def compile_phase_program(circuit: Circuit) -> PhaseProgram | None:
    """Recognise a circuit that is Hadamards plus diagonal phases, or return ``None`` (memoised by structure).

    CNOT and SWAP gates are tracked as linear maps of the basis bits, so
    ``CX P CX`` (how the ZZ feature map writes ``exp(-i phi Z_i Z_j)``) folds into a
    phase; every Hadamard and the circuit's end must see those maps undone.

    Args:
        circuit: any circuit.

    Returns:
        The program, or ``None`` when the circuit has other gates (then use the engine).

    Example:
        >>> from qmlsim.circuits.templates import zz_feature_map
        >>> compile_phase_program(zz_feature_map(2)) is not None
        True
        >>> c = Circuit(1); _ = c.rx(0.3, 0)
        >>> compile_phase_program(c) is None
        True
    """
    key = circuit.key
    if key not in _PHASE_PROGRAMS:
        if len(_PHASE_PROGRAMS) >= _CACHE_SIZE:
            _PHASE_PROGRAMS.pop(next(iter(_PHASE_PROGRAMS)))
        _PHASE_PROGRAMS[key] = _compile_phase_program(circuit)
    return _PHASE_PROGRAMS[key]


_CACHE_SIZE = 64
_PHASE_PROGRAMS: dict[tuple, PhaseProgram | None] = {}


def _compile_phase_program(circuit: Circuit) -> PhaseProgram | None:
    n = circuit.num_wires
    index = np.arange(2**n)
    original = [(index >> (n - 1 - w)) & 1 for w in range(n)]
    bits = list(original)
    steps: list[tuple] = []
    exprs: list[Expr] = []
    columns: list[int] = []
    rows: list[np.ndarray] = []
    const = np.zeros(2**n)

    def identity() -> bool:
        return all(b is o or np.array_equal(b, o) for b, o in zip(bits, original))

    def flush() -> None:
        nonlocal const, columns, rows
        if rows or const.any():
            g = np.stack(rows) if rows else np.zeros((0, 2**n))
            steps.append(("phase", tuple(columns), g, const))
        columns, rows, const = [], [], np.zeros(2**n)

    for op in circuit.ops:
        if op.controls or op.name == "unitary":
            return None
        if op.name == "h":
            if not identity():
                return None
            flush()
            if steps and steps[-1][0] == "h" and op.wires[0] not in steps[-1][1]:
                steps[-1] = ("h", steps[-1][1] + op.wires)
            else:
                steps.append(("h", op.wires))
            continue
        if op.name == "cx":
            c, t = op.wires
            bits[t] = bits[t] ^ bits[c]
            continue
        if op.name == "swap":
            a, b = op.wires
            bits[a], bits[b] = bits[b], bits[a]
            continue
        linear = _angle_linear(op.name)
        if linear is None:
            return None
        c0, g = linear
        sign = -1.0 if op.adjoint else 1.0
        local = np.zeros(2**n, dtype=np.int64)
        for w in op.wires:
            local = (local << 1) | bits[w]
        const = const + sign * c0[local]
        if op.params:
            columns.append(len(exprs))
            exprs.append(op.params[0])
            rows.append(sign * g[local])
    if not identity():
        return None
    flush()
    return PhaseProgram(n, tuple(exprs), tuple(steps))


def _hadamard_wires(state: Any, wires: tuple[int, ...], n: int, xp: Any) -> Any:
    batch = state.shape[0]
    if xp is np:
        # In-place butterflies, one scaling at the end: a third of the passes of the functional form.
        state = np.array(state, copy=True)
        for w in wires:
            s = state.reshape(batch, 2**w, 2, 2 ** (n - w - 1))
            a, b = s[:, :, 0, :], s[:, :, 1, :]
            diff = a - b
            a += b
            b[...] = diff
        state *= 2 ** (-len(wires) / 2)
        return state
    scale = 1 / math.sqrt(2)
    for w in wires:
        s = state.reshape(batch, 2**w, 2, 2 ** (n - w - 1))
        a, b = s[:, :, 0, :], s[:, :, 1, :]
        state = xp.stack([(a + b) * scale, (a - b) * scale], axis=2).reshape(batch, 2**n)
    return state


def phase_program_states(program: PhaseProgram, x: Any, weights: Any = None, xp: Any = np, dtype: Any = np.complex128) -> Any:
    """States of a :class:`PhaseProgram` for a batch of inputs.

    Args:
        program: from :func:`compile_phase_program`.
        x: ``(batch, num_inputs)`` real.
        weights: ``(num_weights,)`` real or ``None``.
        xp: array namespace (``numpy``, ``jax.numpy``, ``cupy``).
        dtype: complex dtype of the result.

    Returns:
        ``(batch, 2**num_wires)`` states (wire 0 the most significant bit).

    Example:
        >>> from qmlsim.circuits.templates import zz_feature_map
        >>> prog = compile_phase_program(zz_feature_map(2, reps=1))
        >>> phase_program_states(prog, np.zeros((3, 2))).shape
        (3, 4)
    """
    n = program.num_wires
    batch = x.shape[0]
    weights = xp.zeros(0) if weights is None else weights
    values = compile_expressions(program.exprs)(x, weights, xp) if program.exprs else []
    theta = xp.stack([xp.broadcast_to(xp.asarray(v, dtype=x.dtype), (batch,)) for v in values], axis=1) if values else None
    real = xp.float32 if np.dtype(dtype) == np.complex64 else xp.float64
    state = xp.asarray(np.eye(1, 2**n, dtype=dtype))
    for step in program.steps:
        if step[0] == "h":
            if state.shape[0] == 1 and len(step[1]) == n and step is program.steps[0]:
                state = xp.full((1, 2**n), 2 ** (-n / 2), dtype=dtype)
            else:
                state = _hadamard_wires(state, step[1], n, xp)
            continue
        _, cols, g, const = step
        angle = xp.asarray(const, dtype=real)[None, :]
        if cols:
            angle = angle + theta[:, list(cols)].astype(real) @ xp.asarray(g, dtype=real)
        state = state * xp.exp(1j * angle).astype(dtype)
    if state.shape[0] != batch:
        state = xp.broadcast_to(state, (batch, 2**n))
    return state


# --------------------------------------------------------------------------------------
# Gram matrices
# --------------------------------------------------------------------------------------
def _is_statevector_device(device: Any) -> bool:
    return bool(getattr(device, "supports_statevector", False)) and callable(getattr(device, "statevector", None))


def feature_map_states(circuit: Circuit, x: np.ndarray, weights: Any, device: Any, fast_path: bool) -> Any:
    """States ``(rows, 2**n)`` of ``circuit`` on ``device``: the phase-product program when ``fast_path`` and the
    circuit is Hadamards and diagonal phases, else ``device.statevector``."""
    backend = getattr(device, "backend", None)
    program = compile_phase_program(circuit) if fast_path else None
    if program is not None and backend is not None:
        xp = backend.xp
        dtype = np.complex64 if getattr(device, "dtype", "complex128") == "complex64" else np.complex128
        real = np.float32 if dtype == np.complex64 else np.float64
        w = xp.zeros(0, dtype=real) if weights is None else xp.asarray(weights, dtype=real)
        return _phase_function(circuit.key, program, backend, dtype)(xp.asarray(x, dtype=real), w)
    return device.statevector(circuit, x=x, weights=weights)


_PHASE_FUNCTIONS: dict[tuple, Callable] = {}


def _phase_function(key: tuple, program: PhaseProgram, backend: Any, dtype: Any) -> Callable:
    """``(x, weights) -> states``, compiled once per circuit structure under JAX (eager elsewhere)."""
    cache_key = (key, backend.name, np.dtype(dtype).name)
    if cache_key not in _PHASE_FUNCTIONS:
        if len(_PHASE_FUNCTIONS) >= _CACHE_SIZE:
            _PHASE_FUNCTIONS.pop(next(iter(_PHASE_FUNCTIONS)))
        xp = backend.xp
        fn = lambda x, w: phase_program_states(program, x, w, xp, dtype)  # noqa: E731
        _PHASE_FUNCTIONS[cache_key] = backend.jit(fn) if backend.name == "jax" else fn
    return _PHASE_FUNCTIONS[cache_key]


def _gram_from_states(sx: Any, sy: Any, symmetric: bool, xp: Any, tile_rows: int) -> Any:
    """``|sx^* sy^T|^2`` in row tiles; the symmetric case computes the upper tiles only."""
    n, m = sx.shape[0], sy.shape[0]
    if xp is np:
        from scipy.linalg.blas import zherk  # noqa: PLC0415

        out = np.empty((n, m))
        cx = sx.conj()
        for i in range(0, n, tile_rows):
            stop = min(i + tile_rows, n)
            if symmetric:
                # Diagonal tile: Hermitian rank-k update fills its upper triangle only (half the work).
                block = zherk(1.0, np.ascontiguousarray(cx[i:stop])) if sx.dtype == np.complex128 else cx[i:stop] @ sy[i:stop].T
                diagonal = np.triu(block.real**2 + block.imag**2)
                out[i:stop, i:stop] = diagonal + np.triu(diagonal, 1).T
                block = cx[i:stop] @ sy[stop:].T
                out[i:stop, stop:] = block.real**2 + block.imag**2
                out[stop:, i:stop] = out[i:stop, stop:].T
            else:
                block = cx[i:stop] @ sy.T
                out[i:stop] = block.real**2 + block.imag**2
        return out
    blocks = [xp.abs(sx[i : i + tile_rows].conj() @ sy.T) ** 2 for i in range(0, n, tile_rows)]
    return xp.concatenate(blocks, axis=0)


# Below this many complex multiply-adds a Gram matrix runs on one BLAS thread: waking
# a second thread costs more than it saves, and on a loaded machine spinning BLAS
# threads made small Gram matrices 5x slower (measured at N = 300, 8 qubits).
_SINGLE_THREAD_WORK = 2**26
_BLAS: list = []


def _blas_limit(work: int) -> Any:
    if work >= _SINGLE_THREAD_WORK:
        return contextlib.nullcontext()
    try:
        if not _BLAS:
            from threadpoolctl import ThreadpoolController  # noqa: PLC0415 - scikit-learn's dependency

            _BLAS.append(ThreadpoolController())
        return _BLAS[0].limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()


def _check_fits(n: int, m: int, num_wires: int, max_memory_bytes: int | None) -> None:
    limit = max_memory_bytes if max_memory_bytes is not None else _RESULT_SHARE * available_memory_bytes()
    need = 8 * n * m + 16 * (n + m) * 2**num_wires
    if need > limit:
        raise MemoryError(
            f"a {n} x {m} kernel matrix on {num_wires} qubits needs about {need / 2**30:.2f} GiB "
            f"but the limit is {limit / 2**30:.2f} GiB; evaluate it in blocks of rows "
            "(kernel.matrix(X[i:j], Y)) or raise max_memory_bytes"
        )


def _pairs_probability(circuit: Circuit, rows: np.ndarray, weights: Any, device: Any, shots: int | None, seed: Any) -> np.ndarray:
    """Probability of the all-zeros outcome for every row, in one batch (chunked only to bound sampled bits)."""
    if shots is None:
        probs = device.probs(circuit, x=rows, weights=weights)
        return np.atleast_2d(np.asarray(host_array(probs)))[:, 0]
    rng = np.random.default_rng(seed)
    with_error = getattr(device, "probs_with_error", None)
    if callable(with_error):
        # Executors that count outcomes themselves (QiskitExecutor) take every pair in one sweep.
        probs, _ = with_error(circuit, x=rows, weights=weights, shots=shots, seed=int(rng.integers(2**31)))
        return np.atleast_2d(np.asarray(probs))[:, 0]
    chunk = max(1, _SAMPLE_ENTRIES // (shots * circuit.num_wires))
    out = np.empty(rows.shape[0])
    for start in range(0, rows.shape[0], chunk):
        part = rows[start : start + chunk]
        bits = np.asarray(device.sample(circuit, shots, x=part, weights=weights, seed=int(rng.integers(2**31))))
        bits = bits.reshape(part.shape[0], shots, -1)
        out[start : start + chunk] = (~bits.any(axis=2)).mean(axis=1)
    return out


def _writable_host(value: Any) -> np.ndarray:
    if type(value) is np.ndarray and value.flags.writeable and value.dtype == np.float64:
        return value
    return np.array(value, dtype=np.float64)


def host_array(value: Any) -> np.ndarray:
    """Any backend's array (NumPy, JAX, CuPy) as a NumPy array on the host."""
    if isinstance(value, np.ndarray):
        return value
    try:
        import jax  # noqa: PLC0415

        if isinstance(value, jax.Array):
            return np.array(value)  # writable copy
    except ImportError:  # pragma: no cover
        pass
    get = getattr(value, "get", None)
    return np.asarray(get() if callable(get) else value)


def project_psd(matrix: np.ndarray) -> np.ndarray:
    """Nearest positive semidefinite matrix in Frobenius norm (negative eigenvalues clipped).

    Example:
        >>> project_psd(np.array([[1.0, 2.0], [2.0, 1.0]])).round(3).tolist()
        [[1.5, 1.5], [1.5, 1.5]]
    """
    sym = (matrix + matrix.T) / 2
    evals, evecs = np.linalg.eigh(sym)
    return (evecs * np.clip(evals, 0, None)) @ evecs.T


def fidelity_gram(
    feature_map: Circuit,
    x: np.ndarray,
    y: np.ndarray | None,
    weights: Any,
    device: Any,
    shots: int | None = None,
    seed: Any = None,
    enforce_psd: bool = True,
    tile_rows: int | None = None,
    fast_path: bool = True,
    max_memory_bytes: int | None = None,
) -> np.ndarray:
    """The fidelity Gram matrix (validated inputs). See :class:`FidelityQuantumKernel`."""
    symmetric = y is None
    y = x if symmetric else y
    _check_fits(x.shape[0], y.shape[0], feature_map.num_wires, max_memory_bytes)
    # Each distinct row is simulated (or paired) once.
    ux, inv_x = _unique_rows(x)
    uy, inv_y = (ux, inv_x) if symmetric else _unique_rows(y)
    tiled = getattr(device, "gram", None)
    if callable(tiled) or _is_statevector_device(device):
        if callable(tiled):  # an executor that tiles the matrix itself (DaskExecutor: states per block, tiles as tasks)
            k = tiled(feature_map, ux, None if symmetric else uy, weights, fast_path=fast_path, block_rows=tile_rows,
                      max_memory_bytes=max_memory_bytes)
        else:
            # the device's backend scope: a complex128 JAX simulator computes in 64 bits only inside it
            with device.backend.scope(), _blas_limit(ux.shape[0] * uy.shape[0] * 2**feature_map.num_wires):
                sx = feature_map_states(feature_map, ux, weights, device, fast_path)
                sy = sx if symmetric else feature_map_states(feature_map, uy, weights, device, fast_path)
                xp = device.backend.xp
                rows = tile_rows or max(1, _TILE_ENTRIES // max(1, uy.shape[0]))
                k = _writable_host(device.backend.to_host(_gram_from_states(sx, sy, symmetric, xp, rows)))
        if shots is not None:
            # Sampling the all-zeros outcome of U(z)^dagger U(x) with `shots` shots is
            # exactly a binomial draw with the exact fidelity as its probability.
            rng = np.random.default_rng(seed)
            sampled = rng.binomial(shots, np.clip(k, 0.0, 1.0)) / shots
            k = np.triu(sampled, 1) + np.triu(sampled, 1).T + np.diag(np.diag(sampled)) if symmetric else sampled
    else:
        circuit = compute_uncompute(feature_map)
        if symmetric:
            i, j = np.triu_indices(ux.shape[0], 1)
        else:
            i, j = (a.ravel() for a in np.meshgrid(np.arange(ux.shape[0]), np.arange(uy.shape[0]), indexing="ij"))
        values = _pairs_probability(circuit, np.hstack([ux[i], uy[j]]), weights, device, shots, seed) if i.size else np.zeros(0)
        k = np.zeros((ux.shape[0], uy.shape[0]))
        k[i, j] = values
        if symmetric:
            k = k + k.T
    if symmetric:
        np.fill_diagonal(k, 1.0)
        if shots is not None and enforce_psd:
            k = project_psd(k)
    if inv_x is not None or inv_y is not None:
        k = k[inv_x if inv_x is not None else slice(None)][:, inv_y if inv_y is not None else slice(None)]
    return k


def _unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    unique, inverse = np.unique(x, axis=0, return_inverse=True)
    if unique.shape[0] == x.shape[0]:
        return x, None
    return unique, inverse.reshape(-1)
