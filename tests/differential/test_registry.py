"""The harness knows every execution path the engine has, and every path is registered in both dtypes it runs."""
from __future__ import annotations

from qmlsim.simulators.executor import EXECUTION_PATHS
from tests.differential.paths import PATHS


def test_every_engine_path_is_registered():
    registered = {p.name for p in PATHS}
    missing = set(EXECUTION_PATHS) - registered
    unknown = registered - set(EXECUTION_PATHS)
    assert not missing, f"execution paths with no entry in tests/differential/paths.py: {sorted(missing)}"
    assert not unknown, f"harness paths missing from EXECUTION_PATHS: {sorted(unknown)}"


def test_paths_cover_both_dtypes_where_the_engine_has_them():
    dtypes: dict[str, set[str]] = {}
    for p in PATHS:
        dtypes.setdefault(p.name, set()).add(p.dtype)
    # the Qiskit primitives run the engine's default complex128 only
    for name, found in dtypes.items():
        if name != "qiskit-primitives":
            assert found == {"complex128", "complex64"}, f"{name} registered for {sorted(found)}"


def test_probes_name_real_functions():
    from tests.differential.paths import _resolve

    for p in PATHS:
        for target in p.probe.hits + p.probe.misses:
            owner, leaf = _resolve(target)
            assert callable(getattr(owner, leaf)), f"{p.key}: probe {target} is not a function"
