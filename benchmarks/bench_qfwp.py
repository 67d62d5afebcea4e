"""QFWP and QLSTM training: qmlsim against the same models written with PennyLane, in one run.

Cases (damped pendulum: 157 training windows of 4, batch 10, forward + backward, RMSprop 0.01):

- ``QFWP epoch`` / ``QLSTM epoch``: seconds per training epoch after compilation (median of
  several epochs). qmlsim: the estimator (a whole epoch is one compiled ``lax.scan``).
  ``pennylane default.qubit + jax``: the same model with ``qml.qnode(interface="jax")``,
  ``jax.vmap`` over the batch and ``jax.jit`` over the whole step (loss, gradient, RMSprop).
  ``pennylane lightning.qubit adjoint``: the same step with ``diff_method="adjoint"``
  (not jittable: one call per sequence).
- ``QFWP 100 epochs, fresh process``: from a new Python process to a trained 100-epoch
  model, imports and compilation included.

``ratio`` is the peer's time / qmlsim's time. Both sides run float64.

Run: ``python benchmarks/run.py qfwp [--quick]``.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import numpy as np


OURS = "qmlsim"
BATCH = 10

# the PennyLane models: the reference code's circuits, written once for both devices
_PENNYLANE_MODELS = '''
import jax, jax.numpy as jnp, numpy as np, optax, pennylane as qml
jax.config.update("jax_enable_x64", True)

def qfwp_model(device, diff_method):
    dev = qml.device(device, wires=8)

    @qml.qnode(dev, interface="jax", diff_method=diff_method)
    def circuit(x, theta):
        for q in range(8):
            qml.Hadamard(q)
        qml.RY(x[0], wires=0)
        for k in range(2):
            for q in range(0, 7, 2):
                qml.CNOT([q, q + 1])
            for q in range(1, 7, 2):
                qml.CNOT([q, q + 1])
            for q in range(8):
                qml.RY(theta[k, q], wires=q)
        return [qml.expval(qml.PauliZ(q)) for q in range(4)]

    def one(p, seq):  # one sequence (T, 1): fast weights, then the circuit at the last step
        h = seq @ p["enc_w"] + p["enc_b"]
        theta = jnp.einsum("tk,tq->kq", h @ p["lay_w"] + p["lay_b"], h @ p["wir_w"] + p["wir_b"])
        z = jnp.stack(circuit(seq[-1], theta))
        return z @ p["out_w"] + p["out_b"]

    rng = np.random.default_rng(0)
    shapes = {"enc_w": (1, 8), "enc_b": (8,), "lay_w": (8, 2), "lay_b": (2,), "wir_w": (8, 8), "wir_b": (8,),
              "out_w": (4, 1), "out_b": (1,)}
    return one, {k: jnp.asarray(rng.uniform(-0.3, 0.3, s)) for k, s in shapes.items()}

def qlstm_model(device, diff_method):
    dev = qml.device(device, wires=4)

    @qml.qnode(dev, interface="jax", diff_method=diff_method)
    def vqc(v, w):
        for i in range(4):
            qml.Hadamard(i)
            qml.RY(jnp.arctan(v[i]), wires=i)
            qml.RZ(jnp.arctan(v[i] ** 2), wires=i)
        for k in range(2):
            for i in range(4):
                qml.CNOT([i, (i + 1) % 4])
            for i in range(4):
                qml.CNOT([i, (i + 2) % 4])
            for i in range(4):
                qml.Rot(w[k, i, 0], w[k, i, 1], w[k, i, 2], wires=i)
        return [qml.expval(qml.PauliZ(i)) for i in range(4)]

    def one(p, seq):
        h, c = jnp.zeros(3), jnp.zeros(4)
        for t in range(seq.shape[0]):
            v = jnp.concatenate([seq[t], h])
            f, i, g, o = (jnp.stack(vqc(v, p["vqc"][j])) for j in range(4))
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            out = jax.nn.sigmoid(o) * jnp.tanh(c)
            h = jnp.stack(vqc(out, p["vqc"][4]))[:3]
            y = jnp.stack(vqc(out, p["vqc"][5])) @ p["out_w"] + p["out_b"]
        return y

    rng = np.random.default_rng(0)
    return one, {"vqc": jnp.asarray(0.01 * rng.normal(size=(6, 2, 4, 3))), "out_w": jnp.asarray(rng.uniform(-0.5, 0.5, (4, 1))),
                 "out_b": jnp.zeros(1)}

def trainer(one, params, jit):
    opt = optax.rmsprop(0.01, decay=0.99, eps=1e-8, eps_in_sqrt=False)

    def loss(p, xb, yb):
        pred = (jax.vmap(lambda s: one(p, s))(xb) if jit else jnp.stack([one(p, s) for s in xb]))[:, 0]
        return jnp.mean((pred - yb) ** 2)

    def step(p, s, xb, yb):
        value, grads = jax.value_and_grad(loss)(p, xb, yb)
        updates, s = opt.update(grads, s, p)
        return optax.apply_updates(p, updates), s, value

    return (jax.jit(step) if jit else step), opt.init(params)
'''


def _namespace() -> dict:
    namespace: dict = {}
    exec(compile(_PENNYLANE_MODELS, "pennylane_models", "exec"), namespace)  # noqa: S102 - our own source, shared with the subprocess
    return namespace


def _pennylane_epoch(model: str, device: str, diff_method: str, jit: bool, epochs: int) -> tuple[float, float]:
    """(seconds of the first epoch, compile included; median seconds per later epoch)."""
    from qmlsim.qml.datasets import damped_pendulum

    ns = _namespace()
    jnp = ns["jnp"]
    one, params = ns[f"{model}_model"](device, diff_method)
    step, state = ns["trainer"](one, params, jit)
    X, y, _, _ = damped_pendulum()
    times = []
    for _ in range(epochs):
        began = time.perf_counter()
        for i in range(0, len(X), BATCH):
            params, state, value = step(params, state, jnp.asarray(X[i : i + BATCH]), jnp.asarray(y[i : i + BATCH]))
        value.block_until_ready()
        times.append(time.perf_counter() - began)
    return times[0], float(np.median(times[1:])) if len(times) > 1 else times[0]


def _ours_epoch(model: str, epochs: int) -> tuple[float, float]:
    from qmlsim.qml.datasets import damped_pendulum
    from qmlsim.qml.fast_weights import QFWP
    from qmlsim.qml.recurrent import QLSTM

    X, y, _, _ = damped_pendulum()
    began = time.perf_counter()
    fitted = {"qfwp": QFWP, "qlstm": QLSTM}[model](epochs=epochs, shuffle=False, random_state=0).fit(X, y)
    total = time.perf_counter() - began
    return total - fitted.seconds_per_epoch_ * (epochs - 1), fitted.seconds_per_epoch_  # median of epochs 2..


def _fresh_process(code: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return time.perf_counter() - began


OURS_100 = textwrap.dedent("""
    from qmlsim.qml.datasets import damped_pendulum
    from qmlsim.qml.fast_weights import QFWP
    X, y, _, _ = damped_pendulum()
    QFWP(epochs=100, shuffle=False, random_state=0).fit(X, y)
""")


def _pennylane_100() -> str:
    return _PENNYLANE_MODELS + textwrap.dedent("""
        from qmlsim.qml.datasets import damped_pendulum
        X, y, _, _ = damped_pendulum()
        one, params = qfwp_model("default.qubit", "backprop")
        step, state = trainer(one, params, True)
        for epoch in range(100):
            for i in range(0, len(X), 10):
                params, state, value = step(params, state, jnp.asarray(X[i:i + 10]), jnp.asarray(y[i:i + 10]))
        value.block_until_ready()
    """)


def run(quick: bool = False) -> list[dict]:
    epochs = 10 if quick else 20
    rows = []
    for model in ("qfwp", "qlstm"):
        case = f"{model.upper()} epoch (damped pendulum, 157 windows, batch 10)"
        first, ours = _ours_epoch(model, epochs)
        rows.append({"case": case, "impl": OURS, "seconds": ours, "ratio": None, "note": f"first epoch {first:.1f} s (compile)"})
        peers = []
        if not quick or model == "qfwp":  # PennyLane's QLSTM step takes minutes to compile: full runs only
            peers.append(("pennylane default.qubit + jax (jit, vmap)", "default.qubit", "backprop", True, epochs))
            peers.append(("pennylane lightning.qubit adjoint", "lightning.qubit", "adjoint", False, 1))
        for impl, device, method, jit, count in peers:
            try:
                first_peer, seconds = _pennylane_epoch(model, device, method, jit, count)
                rows.append({"case": case, "impl": impl, "seconds": seconds, "ratio": seconds / ours,
                             "note": f"first epoch {first_peer:.1f} s" + ("" if count > 1 else " (one epoch: compile included)")})
            except Exception as err:  # noqa: BLE001 - a peer's failure is a result
                rows.append({"case": case, "impl": impl, "seconds": None, "ratio": None,
                             "note": f"failed: {type(err).__name__}: {str(err)[:80]}"})
    case = "QFWP 100 epochs from a fresh process (imports, compile, training)"  # up to half a minute each
    # a single fresh process varies by 10-20 % here: the median of 3, the two sides alternating
    repeats = 1 if quick else 3
    ours_runs, peer_runs = [], []
    for _ in range(repeats):
        ours_runs.append(_fresh_process(OURS_100))
        peer_runs.append(_fresh_process(_pennylane_100()))
    ours, seconds = float(np.median(ours_runs)), float(np.median(peer_runs))
    spread = f"median of {repeats}: " if repeats > 1 else ""
    rows.append({"case": case, "impl": OURS, "seconds": ours, "ratio": None,
                 "note": spread + ", ".join(f"{t:.1f}" for t in ours_runs) + " s"})
    rows.append({"case": case, "impl": "pennylane default.qubit + jax (jit, vmap)", "seconds": seconds,
                 "ratio": seconds / ours, "note": spread + ", ".join(f"{t:.1f}" for t in peer_runs) + " s"})
    return rows
