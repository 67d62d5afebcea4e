"""The ``qmlsim`` command: ``info``, ``experiment NAME`` and ``bench [SUITE]``.

``info`` reports library versions and which array backends can run here;
``experiment`` runs one of the paper reproductions (each module exposes
``run_experiment(out_dir: str, quick: bool = False) -> dict``); ``bench`` runs
``benchmarks/run.py`` from a source checkout.

>>> parser = build_parser()
>>> parser.parse_args(["experiment", "havlicek", "--quick"]).quick
True
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import importlib.metadata
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["main", "build_parser", "EXPERIMENTS", "backend_status", "library_versions"]

EXPERIMENTS: dict[str, str] = {
    "havlicek": "qmlsim.qml.havlicek:run_experiment",
    "qkan": "qmlsim.qml.qkan.experiment:run_experiment",
    "qsp": "qmlsim.qml.qsp_experiment:run_experiment",
    "cooling": "qmlsim.qml.cooling_experiment:run_experiment",
    "ridgelet": "qmlsim.qml.ridgelet_experiment:run_experiment",
    "qfwp": "qmlsim.qml.qfwp_experiment:run_experiment",
}
"""Experiment name -> ``"module:function"``; modules are imported only when their experiment runs."""

# distribution name shown by `qmlsim info`, in display order
LIBRARIES = ("qmlsim", "numpy", "scipy", "jax", "jaxlib", "numba", "qiskit", "qiskit-aer", "pennylane", "scikit-learn", "cupy")
BENCHMARK_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def library_versions() -> dict[str, str]:
    """Installed versions of qmlsim and the libraries it works with (``"not installed"`` when absent).

    Example:
        >>> library_versions()["numpy"] != "not installed"
        True
    """
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    if out["cupy"] == "not installed":  # CuPy wheels are named per CUDA version
        for dist in importlib.metadata.distributions():
            dist_name = (dist.metadata["Name"] or "").lower()
            if dist_name.startswith("cupy-"):
                out["cupy"] = f"{dist.version} ({dist_name})"
                break
    return out


def _jax_status() -> str:
    try:
        import jax  # noqa: PLC0415 - reported, not required
    except ImportError as err:
        return f"not available ({err})"
    x64 = "on" if jax.config.jax_enable_x64 else "off (the jax backend turns it on for complex128)"
    devices = ", ".join(sorted({d.platform for d in jax.devices()}))
    return f"available; x64 {x64}; devices: {devices}"


def _cupy_status() -> str:
    try:
        import cupy  # noqa: PLC0415 - optional
    except Exception as err:  # noqa: BLE001 - a broken CUDA install raises more than ImportError
        return f'not installed ({type(err).__name__}); pip install "qmlsim[gpu]"'
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # noqa: BLE001 - no driver / no device
        return f"installed, no usable GPU ({type(err).__name__}: {err})"
    if count < 1:
        return "installed, no GPU found"
    name = cupy.cuda.runtime.getDeviceProperties(0).get("name", b"?")
    name = name.decode() if isinstance(name, bytes) else str(name)
    return f"installed, {count} GPU(s), device 0: {name}"


def _custatevec_status() -> str:
    try:
        from cuquantum import custatevec  # noqa: F401, PLC0415 - optional
    except Exception as err:  # noqa: BLE001
        return f"not installed ({type(err).__name__}); the cupy backend uses its own kernels"
    return "installed; the cupy backend uses it for large states"


def backend_status() -> dict[str, str]:
    """Whether each array backend can run here, in words. Never raises.

    Example:
        >>> backend_status()["numpy"]
        'available'
    """
    return {"numpy": "available", "jax": _jax_status(), "cupy": _cupy_status(), "custatevec": _custatevec_status()}


def _cmd_info(args: argparse.Namespace) -> int:
    versions = library_versions()
    backends = backend_status()
    if args.json:
        sys.stdout.write(json.dumps({"python": sys.version.split()[0], "versions": versions, "backends": backends}, indent=2) + "\n")
        return 0
    width = max(map(len, list(versions) + list(backends)))
    lines = [f"{'python':<{width}}  {sys.version.split()[0]}"]
    lines += [f"{name:<{width}}  {version}" for name, version in versions.items()]
    lines += ["", "backends:"]
    lines += [f"  {name:<{width}}  {status}" for name, status in backends.items()]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _load(target: str) -> Callable[..., Any]:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _prepare_kernels() -> None:
    """Say whether the compiled CPU kernels are ready; if not, their build starts in the background."""
    from qmlsim.simulators import fast  # noqa: PLC0415
    from qmlsim.simulators.fast.background import compiled_kernels_ready  # noqa: PLC0415

    if not fast.available() or compiled_kernels_ready():
        return
    sys.stdout.write("qmlsim: the compiled CPU kernels are being built in the background (once per machine, a few "
                     "minutes); this run uses the array kernels until they are ready\n")
    sys.stdout.flush()


def source_commit(path: Path | None = None) -> str | None:
    """The git commit of the checkout holding ``path`` (default: this package), or ``None`` outside one."""
    import subprocess  # noqa: PLC0415

    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=path or Path(__file__).resolve().parent, capture_output=True, text=True,
            timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def run_description(quick: bool, seconds: float) -> dict:
    """Date, commit (in a source checkout), CPUs and wall time of an experiment run, stored in its ``summary.json``."""
    import datetime  # noqa: PLC0415
    import os  # noqa: PLC0415
    import platform  # noqa: PLC0415

    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": source_commit(),
        "quick": quick,
        "seconds": round(seconds, 1),
        "cpu_count_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def _cmd_experiment(args: argparse.Namespace) -> int:
    target = EXPERIMENTS.get(args.name)
    if target is None:
        sys.stderr.write(f"qmlsim: unknown experiment {args.name!r}; choose one of: {', '.join(sorted(EXPERIMENTS))}\n")
        return 2
    try:
        run = _load(target)
    except (ImportError, AttributeError) as err:
        sys.stderr.write(f"qmlsim: experiment {args.name!r} is not available in this install ({target}): {err}\n")
        return 1
    large = getattr(args, "large", False)
    scheduler = getattr(args, "scheduler", None)
    rl = getattr(args, "rl", False)
    accepts = inspect.signature(run).parameters
    for flag, value, name in (("--large", large, "large"), ("--scheduler", scheduler, "scheduler"), ("--rl", rl, "rl")):
        if value and name not in accepts:
            sys.stderr.write(f"qmlsim: experiment {args.name!r} does not take {flag}; run it without {flag}\n")
            return 2
    # a quick check writes beside the full run's outputs, never over them
    suffix = ("-rl" if rl else "") + ("-quick" if args.quick else "-large" if large else "")
    out_dir = args.out or str(Path("experiments_out") / f"{args.name}{suffix}")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    _prepare_kernels()
    options = {**({"large": True} if large else {}), **({"scheduler": scheduler} if scheduler else {}), **({"rl": True} if rl else {})}
    summary = run(out_dir=out_dir, quick=args.quick, **options)
    seconds = time.perf_counter() - start
    # the experiment prints its own tables and writes its files; keep the summary too, with where it ran
    summary = {**summary, "machine": run_description(quick=args.quick, seconds=seconds)}
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    sys.stdout.write(f"qmlsim experiment {args.name}: done in {seconds:.1f} s; outputs in {out_dir}\n")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if not BENCHMARK_SCRIPT.exists():
        sys.stderr.write(
            f"qmlsim: {BENCHMARK_SCRIPT} not found; benchmarks run from a source checkout "
            "(git clone, then pip install -e '.[bench]')\n"
        )
        return 1
    root = str(BENCHMARK_SCRIPT.parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    run_module = importlib.import_module("benchmarks.run")
    argv = [args.suite] + (["--quick"] if args.quick else [])
    return int(run_module.main(argv) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``qmlsim`` command."""
    parser = argparse.ArgumentParser(prog="qmlsim", description="qmlsim: batched, differentiable statevector simulation for QML")
    sub = parser.add_subparsers(dest="command", required=True)

    info = sub.add_parser("info", help="versions and available backends")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(func=_cmd_info)

    experiment = sub.add_parser("experiment", help=f"run an experiment: {', '.join(sorted(EXPERIMENTS))}")
    experiment.add_argument("name", help=f"one of: {', '.join(sorted(EXPERIMENTS))}")
    experiment.add_argument("--out", default=None, help="output directory (default: experiments_out/NAME, or NAME-quick with --quick)")
    experiment.add_argument("--quick", action="store_true", help="small settings for a fast check")
    experiment.add_argument("--large", action="store_true", help="large systems (cooling: 12-16 qubits; minutes to an hour)")
    experiment.add_argument("--scheduler", default=None, metavar="ADDRESS",
                            help="run the sweep as tasks on this Dask scheduler (havlicek, cooling; needs the [distributed] extra)")
    experiment.add_argument("--rl", action="store_true", help="qfwp: A2C agents on CartPole and MiniGrid (needs the [rl] extra)")
    experiment.set_defaults(func=_cmd_experiment)

    bench = sub.add_parser("bench", help="run benchmarks/run.py (source checkout only)")
    bench.add_argument("suite", nargs="?", default="all", help="engine, kernels, qkan, pennylane, qiskit or all")
    bench.add_argument("--quick", action="store_true", help="small sizes")
    bench.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qmlsim`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
