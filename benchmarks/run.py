"""Run qmlsim's benchmark suites and compare with peer simulators in one command.

    python benchmarks/run.py [engine|sweep|rows|kernels|qkan|pennylane|qiskit|qsp|cooling|distributed|ridgelet|qfwp|all] [--quick] [--threads 1,2] [--results-dir DIR]

Each suite is a module ``benchmarks/bench_<name>.py`` with ``run(quick: bool) -> list[dict]``;
a row has ``case``, ``impl``, ``seconds`` and optionally ``ratio`` (as the suite defines
it, e.g. peer time / qmlsim time), ``note`` and ``extrapolated`` (the time was
extrapolated from smaller sizes, not measured). Each suite's rows are printed as a
table and written to ``benchmarks/results/<name>-<k>threads.json`` together with a
description of the machine.

Every implementation, ours and the peers', runs with the same number of threads: the
suites run once per count of ``--threads`` (default ``1,2``, capped at the usable CPUs),
each count in its own process, restricted to that many CPUs (CPU affinity) and with the
thread-count variables of numba, OpenMP (lightning.qubit, qulacs, Aer), BLAS and XLA set
to it. ``--results-dir docs/results`` refreshes the snapshots the documentation quotes. A suite whose module is missing or fails is reported and skipped; the
others still run.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
# the suites time the compiled kernels (see benchmarks/common.py)
os.environ.setdefault("QMLSIM_COMPILE", "inline")
RESULTS = ROOT / "benchmarks" / "results"
SUITES = ("engine", "sweep", "rows", "kernels", "qkan", "pennylane", "qiskit", "qsp", "cooling", "distributed", "ridgelet", "qfwp")
VERSIONED = ("qmlsim", "numpy", "scipy", "jax", "numba", "qiskit", "qiskit-aer", "pennylane", "pennylane-lightning", "qulacs", "cupy")
REQUIRED_KEYS = ("case", "impl", "seconds")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return list(range(os.cpu_count() or 1))


def limit_threads(threads: int) -> None:
    """Make every library of this process (imported after this call) use ``threads`` threads on ``threads`` CPUs."""
    cpus = usable_cpus()
    if not 1 <= threads <= len(cpus):
        raise SystemExit(f"--threads {threads}: this machine has {len(cpus)} usable CPUs; pick 1 to {len(cpus)}")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus[:threads])
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    eigen = "false" if threads == 1 else "true"
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
    ).strip()


def results_name(suite: str, threads: int) -> str:
    return f"{suite}-{threads}threads.json"


def machine_info() -> dict[str, Any]:
    """CPU count, platform, library versions, date and commit of this run."""
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    usable = len(usable_cpus())
    from qmlsim.cli import source_commit  # noqa: PLC0415 - qmlsim's CLI imports nothing heavy

    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": source_commit(ROOT),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_count_usable": usable,
        "threads": int(os.environ["NUMBA_NUM_THREADS"]) if "NUMBA_NUM_THREADS" in os.environ else None,
        "versions": versions,
    }


def check_rows(rows: Any, suite: str) -> list[dict]:
    """Validate a suite's rows; raises ``ValueError`` naming the problem."""
    if not isinstance(rows, list):
        raise ValueError(f"bench_{suite}.run must return a list of dicts, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        missing = [k for k in REQUIRED_KEYS if not isinstance(row, dict) or k not in row]
        if missing:
            raise ValueError(f"bench_{suite} row {i} lacks {missing}: {row!r}")
    return rows


def format_seconds(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:  # None or NaN: not run
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def table(rows: list[dict]) -> str:
    """Rows as a text table: case, impl, time (``*`` = extrapolated), ratio, note."""
    header = ("case", "impl", "time", "ratio", "note")
    body = []
    for row in rows:
        ratio = row.get("ratio")
        body.append(
            (
                str(row["case"]),
                str(row["impl"]),
                format_seconds(row["seconds"]) + (" *" if row.get("extrapolated") else ""),
                "-" if ratio is None else f"{ratio:.3g}",
                str(row.get("note", "")),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in body]
    if any(row.get("extrapolated") for row in rows):
        lines.append("(* extrapolated from smaller sizes, not measured)")
    return "\n".join(lines)


def run_suite(name: str, quick: bool, machine: dict, results: Path = RESULTS) -> str:
    """Run one suite; returns ``"ok"``, ``"missing"`` or ``"failed"``."""
    try:
        module = importlib.import_module(f"benchmarks.bench_{name}")
    except ModuleNotFoundError as err:
        if err.name in (f"benchmarks.bench_{name}",):
            print(f"\n== {name}: benchmarks/bench_{name}.py is not present; skipped")
            return "missing"
        print(f"\n== {name}: cannot import benchmarks/bench_{name}.py ({err}); skipped")
        return "failed"
    print(f"\n== {name}{' (quick)' if quick else ''}", flush=True)
    start = time.perf_counter()
    try:
        rows = check_rows(module.run(quick), name)
    except Exception:  # noqa: BLE001 - one broken suite must not stop the others
        traceback.print_exc()
        print(f"== {name}: failed after {time.perf_counter() - start:.1f} s")
        return "failed"
    print(table(rows))
    print(f"({time.perf_counter() - start:.1f} s)")
    results.mkdir(parents=True, exist_ok=True)
    out = results / results_name(name, machine["threads"])
    out.write_text(json.dumps({"suite": name, "quick": quick, "machine": machine, "rows": rows}, indent=2, default=str) + "\n")
    print(f"wrote {out}")
    return "ok"


# --- the README's headline table, rendered from the snapshots in docs/results/ ---------------
DOCS_RESULTS = ROOT / "docs" / "results"
README = ROOT / "README.md"
README_BEGIN, README_END = "<!-- results: begin (python benchmarks/run.py --update-readme) -->", "<!-- results: end -->"
HEADLINES = (
    # (label, snapshot, case, qmlsim impl, peer impls in order of preference)
    ("26-wire RX + CNOT ladder, per gate", "sweep-{t}threads.json", "ladder n=26 (per gate)", "qmlsim numba",
     ("lightning.qubit", "qulacs", "aer statevector")),
    ("18-wire RX + CNOT ladder, per gate", "sweep-{t}threads.json", "ladder n=18 (per gate)", "qmlsim numba",
     ("lightning.qubit", "qulacs", "aer statevector")),
    ("20-wire hardware-efficient layer (RY, RZ, CZ), per gate", "sweep-{t}threads.json", "hea n=20 (per gate)",
     "qmlsim numba", ("lightning.qubit", "qulacs", "aer statevector")),
    ("20-wire QFT, per gate", "sweep-{t}threads.json", "qft n=20 (per gate)", "qmlsim numba",
     ("lightning.qubit", "qulacs", "aer statevector")),
    ("one 4-wire 20-gate circuit, one call", "engine-{t}threads.json", "small single call (per call)", "qmlsim numba",
     ("qulacs", "default.qubit + jax.jit", "lightning.qubit")),
    ("same circuit, 1,000 rows in one call, per row", "rows-{t}threads.json", "small bulk 1000 rows (per row)",
     "qmlsim numba", ("default.qubit + jax.jit broadcast", "qulacs (loop)", "lightning.qubit broadcast")),
    ("same circuit, 10,000 rows in one call, per row", "rows-{t}threads.json", "small bulk 10000 rows (per row)",
     "qmlsim numba", ("default.qubit + jax.jit broadcast", "qulacs (loop)", "lightning.qubit broadcast")),
    ("adjoint gradient, HEA(12, 8), 64 rows", "engine-{t}threads.json", "gradient HEA(12, 8), 64 rows", "qmlsim numba",
     ("qulacs backprop", "lightning.qubit adjoint")),
    ("adjoint gradient, HEA(20, 6), one state (240 weights)", "engine-{t}threads.json",
     "adjoint gradient HEA(20, 6), one state", "qmlsim numba", ("lightning.qubit adjoint", "qulacs backprop")),
    ("cold start: import + first value", "engine-{t}threads.json", "cold start: import + first value", "qmlsim",
     ("aer estimator", "lightning.qubit")),
    ("ZZ-map Gram matrix, 8 qubits, N = 300", "kernels-{t}threads.json", "gram zz8 N=300", "qmlsim numpy",
     ("qiskit-ml FidelityStatevectorKernel",)),
    ("QKAN [10,10,1] forward+backward, batch 1024", "qkan-{t}threads.json", "[10,10,1] r=3 B=1024 fwd+bwd", "qmlsim-jax",
     ("qkan-tn", "qkan-exact")),
    ("QSP angles, sign polynomial of degree 321", "qsp-{t}threads.json", "angles sign d=321", "qmlsim",
     ("pyqsp sym_qsp", "pyqsp laurent")),
    ("cooling step, GQSP circuits, TFIM 12 qubits (+1)", "cooling-{t}threads.json", "circuit step n=12", "qmlsim",
     ("aer statevector", "lightning.qubit")),
)


def readme_block(results: Path = DOCS_RESULTS) -> str:
    """The README's headline table from the snapshots: qmlsim and the fastest listed peer, 1 and 2 threads."""
    lines = [
        README_BEGIN,
        "| case | threads | qmlsim | fastest peer in the same run (peer time / qmlsim time) |",
        "|---|---|---|---|",
    ]
    dates = set()
    for label, pattern, case, ours, peers in HEADLINES:
        for threads in (1, 2):
            path = results / pattern.format(t=threads)
            if not path.is_file():
                continue
            data = json.loads(path.read_text())
            dates.add(data["machine"]["date_utc"][:10])
            rows = {r["impl"]: r for r in data["rows"] if r["case"] == case}
            if ours not in rows or rows[ours]["seconds"] is None:
                continue
            timed = [rows[p] for p in peers if p in rows and rows[p]["seconds"]]
            best = min(timed, key=lambda r: r["seconds"]) if timed else None
            peer = "-" if best is None else (
                f"{best['impl']} {format_seconds(best['seconds'])}{' (extrapolated)' if best.get('extrapolated') else ''}"
                f" ({best['seconds'] / rows[ours]['seconds']:.3g}x)"
            )
            lines.append(f"| {label} | {threads} | {format_seconds(rows[ours]['seconds'])} | {peer} |")
    havlicek = results / "havlicek.json"
    if havlicek.is_file():
        summary = json.loads(havlicek.read_text())
        means = summary["means"]
        depths = means["variational_test_by_depth"]
        lines.append("")
        lines.append(
            f"`qmlsim experiment havlicek` (full run, {summary['machine']['seconds']:.0f} s with the kernels cached), "
            f"mean test accuracy: QSVC exact kernel "
            f"{means['kernel']['exact_test']:.4g}, 50,000-shot kernel {means['kernel']['shots_test']:.4g}, "
            f"RBF SVM {means['kernel']['rbf_test']:.4g}; variational classifier "
            + ", ".join(f"depth {d} {v:.4g}" for d, v in depths.items()) + "."
        )
    lines.append("")
    lines.append(f"Rendered from `docs/results/*.json` (full runs of {', '.join(sorted(dates)) or 'no date'}); "
                 "the docs pages show every row.")
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(readme: Path = README) -> bool:
    """Replace the README's results block by :func:`readme_block`; ``True`` if it changed."""
    text = readme.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    new = text[:start] + readme_block() + text[end:]
    readme.write_text(new)
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", nargs="?", default="all", choices=SUITES + ("all",))
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument(
        "--threads", default="1,2",
        help="comma-separated thread counts; every implementation runs with each (default 1,2, capped at the usable CPUs)",
    )
    parser.add_argument("--results-dir", default=str(RESULTS), help="where the JSON goes (docs/results: the docs' snapshots)")
    parser.add_argument("--update-readme", action="store_true", help="only rewrite README.md's table from docs/results/")
    args = parser.parse_args(argv)
    if args.update_readme:
        print("README.md updated" if update_readme() else "README.md already up to date")
        return 0
    try:
        counts = sorted({int(t) for t in args.threads.split(",")})
    except ValueError:
        parser.error(f"--threads takes comma-separated integers such as 1,2, got {args.threads!r}")
    if args.threads == parser.get_default("threads"):
        counts = [t for t in counts if t <= len(usable_cpus())]
    if len(counts) > 1:
        # each count in a fresh process: numba, OpenMP and XLA read their thread counts at import
        codes = []
        for threads in counts:
            forwarded = [args.suite, "--threads", str(threads), "--results-dir", args.results_dir]
            forwarded += ["--quick"] if args.quick else []
            print(f"\n##### {threads} thread{'s' if threads > 1 else ''}", flush=True)
            codes.append(subprocess.run([sys.executable, str(Path(__file__).resolve()), *forwarded], check=False).returncode)
        return max(codes)
    limit_threads(counts[0])
    names = SUITES if args.suite == "all" else (args.suite,)
    machine = machine_info()
    print(
        f"{machine['processor']}, {machine['cpu_count_usable']} usable CPUs, {machine['threads']} threads for every "
        f"implementation, python {machine['python']}, {machine['date_utc']}"
    )
    status = {name: run_suite(name, args.quick, machine, Path(args.results_dir)) for name in names}
    print("\nsummary: " + ", ".join(f"{n} {s}" for n, s in status.items()))
    if args.suite != "all" and status[args.suite] == "missing":
        return 1
    return 1 if "failed" in status.values() else 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
