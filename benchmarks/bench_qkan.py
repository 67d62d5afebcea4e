"""QKAN forward and forward+backward: qmlsim (JAX jit, NumPy) versus the ``qkan`` package's CPU solvers.

    python benchmarks/bench_qkan.py [--quick]

Cases: ``[2,5,1]`` and ``[10,10,1]`` with ``reps=3`` at batch 1024, a ``[64,64]`` layer
at batch 4096; float32, Born-rule readout (``fast_measure=False`` in qkan), only the
circuit angles trainable (both packages' default). Implementations are timed in
interleaved rounds in one process; each row reports the median and ``ratio`` = (time of
the faster qkan solver) / (this time). Outputs are checked equal to 1e-5 on shared
parameters. A regression table (QKAN, B-spline KAN, Fourier KAN, MLP) follows.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from qmlsim.qml.qkan.layer import apply_qkan, apply_qkan_numpy, init_qkan  # noqa: E402

CASES = [("[2,5,1] r=3 B=1024", [2, 5, 1], 1024), ("[10,10,1] r=3 B=1024", [10, 10, 1], 1024),
         ("[64,64] r=3 B=4096", [64, 64], 4096)]
REPS = 3


def _median_interleaved(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():  # warm-up (compilation)
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            # torch's and XLA's thread pools spin-wait for a while after each call and would
            # take a core from whichever implementation runs next: two untimed calls let the
            # other side's pool go idle, so each is timed in its own steady state
            fn()
            fn()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: float(np.median(v)) for k, v in times.items()}


def _qkan_models(width: list[int], params: list[dict]) -> dict[str, Any]:
    import torch
    from qkan import QKAN as TorchQKAN

    models = {}
    for solver in ("exact", "tn"):
        m = TorchQKAN(width, reps=REPS, solver=solver, fast_measure=False, device="cpu")
        with torch.no_grad():
            for layer, p in zip(m.layers, params):
                layer.theta.copy_(torch.from_numpy(np.array(p["theta"])))
        models[solver] = m
    return models


def timing_rows(quick: bool = False) -> list[dict]:
    """Interleaved timings of every implementation on every case."""
    rows = []
    try:
        import torch
        import qkan  # noqa: F401

        torch.set_num_threads(max(1, torch.get_num_threads()))
        have_qkan = True
    except ImportError:
        have_qkan = False
    for case, width, batch in CASES[:2] if quick else CASES:
        rng = np.random.default_rng(0)
        params = init_qkan(jax.random.PRNGKey(0), width, REPS)
        x_np = rng.uniform(-1, 1, size=(batch, width[0])).astype(np.float32)
        x = jnp.asarray(x_np)
        fwd = jax.jit(lambda p, x: apply_qkan(p, x, REPS))
        grad = jax.jit(jax.value_and_grad(lambda p, x: jnp.sum(apply_qkan(p, x, REPS) ** 2)))
        np_params = [{k: np.asarray(v) for k, v in p.items()} for p in params]
        fns: dict[str, Callable[[], Any]] = {
            "qmlsim-jax fwd": lambda: fwd(params, x).block_until_ready(),
            "qmlsim-numpy fwd": lambda: apply_qkan_numpy(np_params, x_np, REPS),
            "qmlsim-jax fwd+bwd": lambda: jax.block_until_ready(grad(params, x)),
        }
        check = {}
        if have_qkan:
            models = _qkan_models(width, params)
            xt = torch.from_numpy(x_np)

            def torch_fwd(m: Any) -> Callable[[], Any]:
                def run() -> Any:
                    with torch.no_grad():
                        return m(xt)
                return run

            def torch_bwd(m: Any) -> Callable[[], Any]:
                def run() -> Any:
                    m.zero_grad(set_to_none=True)
                    (m(xt) ** 2).sum().backward()
                return run

            for solver, m in models.items():
                fns[f"qkan-{solver} fwd"] = torch_fwd(m)
                fns[f"qkan-{solver} fwd+bwd"] = torch_bwd(m)
                check[solver] = float(np.max(np.abs(torch_fwd(m)().numpy() - np.asarray(fwd(params, x)))))
        times = _median_interleaved(fns, rounds=5 if quick or batch > 1024 else 15)
        for name, seconds in times.items():
            impl, kind = name.rsplit(" ", 1)
            peers = [times[k] for k in (f"qkan-exact {kind}", f"qkan-tn {kind}") if k in times]
            row = {"case": f"{case} {kind}", "impl": impl, "seconds": seconds}
            if peers and impl.startswith("qmlsim"):
                row["ratio"] = min(peers) / seconds
                row["ratio_vs"] = "faster of qkan exact/tn"
            if impl.startswith("qkan"):
                row["max_abs_diff_vs_qmlsim"] = check[impl.split("-")[1]]
            rows.append(row)
    return rows


TARGETS = {
    "exp(sin(pi x)+y^2)": (2, lambda x: np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)),
    "x*y": (2, lambda x: x[:, 0] * x[:, 1]),
    "sin(20x)/(20x)": (1, lambda x: np.sinc(20 * x[:, 0] / np.pi)),
}


def accuracy_rows(quick: bool = False, progress: bool = False) -> list[dict]:
    """Test MSE and parameter counts of QKAN and the baselines on three targets (L-BFGS)."""
    from qmlsim.qml.qkan import MLP, QKAN, BSplineKAN, FourierKAN

    rows = []
    steps = 60 if quick else 400
    for name, (dim, f) in TARGETS.items():
        rng = np.random.default_rng(0)
        lo = 0.0 if dim == 1 else -1.0
        x, xt = rng.uniform(lo, 1, (1000, dim)), rng.uniform(lo, 1, (1000, dim))
        y, yt = f(x)[:, None], f(xt)[:, None]
        hidden = [dim, 5, 1] if dim == 2 else [1, 1]
        models = {
            "QKAN": QKAN(hidden, reps=3, trainable="all", steps=steps, progress=progress),
            "B-spline KAN": BSplineKAN(hidden, steps=steps, progress=progress),
            "Fourier KAN": FourierKAN(hidden, steps=steps, progress=progress),
            "MLP": MLP([dim, 16, 16, 1], steps=steps, progress=progress),
        }
        for label, model in models.items():
            t = time.perf_counter()
            model.fit(x, y)
            mse = float(np.mean((model.predict(xt) - yt) ** 2))
            # a quick run trains 60 steps: its errors are not comparable with the full table's, so its case says so
            case = f"regression {name}" + (f" (quick: {steps} steps)" if quick else "")
            rows.append({"case": case, "impl": label, "seconds": time.perf_counter() - t,
                         "test_mse": mse, "params": model.param_count, "steps": steps})
    return rows


def run(quick: bool = False) -> list[dict]:
    """All rows: timings, then the accuracy-versus-parameters table."""
    return timing_rows(quick) + accuracy_rows(quick)


if __name__ == "__main__":  # the same as ``python benchmarks/run.py qkan [--quick] [--threads 1,2]``
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.run import main

    sys.exit(main(["qkan", *sys.argv[1:]]))
