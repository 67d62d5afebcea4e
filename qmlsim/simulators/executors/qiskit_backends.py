"""Which Qiskit primitives and pass manager run a backend's jobs.

Aer's primitives for ``AerSimulator``; IBM Runtime's for IBM backends and the fake IBM
backends (with ``mode=`` a backend, ``Session`` or ``Batch``); Qiskit's
``BackendSamplerV2`` / ``BackendEstimatorV2`` for any other ``BackendV2``. Circuits are
transpiled with ``generate_preset_pass_manager`` for the backend's target.
"""
from __future__ import annotations

from typing import Any

from qmlsim.circuits.convert import require

require("qiskit", "qiskit")
from qiskit.transpiler import generate_preset_pass_manager  # noqa: E402

__all__ = ["is_local_simulator", "pass_manager", "default_primitives", "check_supported"]

# Instructions a target need not list.
IGNORED_INSTRUCTIONS = frozenset({"barrier"})


def is_runtime_backend(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_ibm_runtime")


def is_local_runtime_backend(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_ibm_runtime.fake_provider")


def runtime_primitives(mode: Any, seed: int | None, local: bool) -> tuple[Any, Any]:
    runtime = require("qiskit_ibm_runtime", "qiskit-ibm-runtime")
    try:
        # qiskit-ibm-runtime >= 0.50: the client-side primitives (the V2 classes below are deprecated there)
        from qiskit_ibm_runtime.executor_estimator import Estimator as estimator_cls  # noqa: PLC0415, N813
        from qiskit_ibm_runtime.executor_sampler import Sampler as sampler_cls  # noqa: PLC0415, N813
    except ImportError:
        # older releases: the V2 class names moved between them, take whichever this one has
        sampler_cls = getattr(runtime, "SamplerV2", None) or runtime.Sampler
        estimator_cls = getattr(runtime, "EstimatorV2", None) or runtime.Estimator
    sampler, estimator = sampler_cls(mode=mode), estimator_cls(mode=mode)
    if seed is not None and local:
        # local testing mode reads the simulator seed; hardware has none. Runtime skips seed 0.
        sampler.options.simulator.seed_simulator = seed or None
        estimator.options.simulator.seed_simulator = seed or None
    return sampler, estimator


# Aer (0.18) applies controlled rotations whose angle is bound through parameter sweeps
# (crx, cry, crz, cp) wrongly, so for an all-to-all AerSimulator circuits are translated
# to this basis, which has no parametrised controlled gates.
AER_BASIS = (
    "id", "x", "y", "z", "h", "s", "sdg", "t", "tdg", "sx", "sxdg", "rx", "ry", "rz", "p", "u",
    "cx", "cy", "cz", "swap", "ccx", "cswap", "rxx", "ryy", "rzz",
)


def is_aer(backend: Any) -> bool:
    return type(backend).__module__.startswith("qiskit_aer")


def is_local_simulator(backend: Any) -> bool:
    return is_aer(backend) or is_local_runtime_backend(backend)


def pass_manager(backend: Any, optimization_level: int, seed: int | None) -> Any:
    if is_aer(backend) and getattr(backend, "coupling_map", None) is None:
        return generate_preset_pass_manager(
            optimization_level=optimization_level, basis_gates=list(AER_BASIS), seed_transpiler=seed
        )
    return generate_preset_pass_manager(optimization_level=optimization_level, backend=backend, seed_transpiler=seed)


def default_primitives(backend: Any, mode: Any, seed: int | None) -> tuple[Any, Any]:
    if mode is not None or is_runtime_backend(backend):
        return runtime_primitives(mode if mode is not None else backend, seed, is_local_runtime_backend(backend))
    try:
        from qiskit_aer import AerSimulator  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover
        AerSimulator = ()  # noqa: N806
    if isinstance(backend, AerSimulator):
        from qiskit_aer.primitives import EstimatorV2, SamplerV2  # noqa: PLC0415

        run_options = {} if seed is None else {"seed_simulator": seed}
        return (
            SamplerV2.from_backend(backend, seed=seed),
            EstimatorV2.from_backend(backend, options={"run_options": run_options}),
        )
    from qiskit.primitives import BackendEstimatorV2, BackendSamplerV2  # noqa: PLC0415

    return (
        BackendSamplerV2(backend=backend, options={"seed_simulator": seed}),
        BackendEstimatorV2(backend=backend, options={"seed_simulator": seed}),
    )


def check_supported(isa: Any, target: Any, name: str) -> None:
    for instruction in isa.data:
        op_name = instruction.operation.name
        if op_name in IGNORED_INSTRUCTIONS:
            continue
        qargs = tuple(isa.find_bit(q).index for q in instruction.qubits)
        if not target.instruction_supported(operation_name=op_name, qargs=qargs):
            raise ValueError(
                f"after transpilation the circuit still has {op_name!r} on qubits {qargs}, which {name} does not support; "
                "use gates in the backend's basis or raise optimization_level"
            )
