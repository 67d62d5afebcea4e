"""The package's import layering, read from the source with ``ast``.

``qmlsim.circuits`` <- ``qmlsim.simulators`` <- ``qmlsim.qml``; nothing imports upward,
nothing imports ``qmlsim.cli``, and optional libraries are imported lazily (inside a
function, or guarded by ``try/except ImportError`` or ``if TYPE_CHECKING``) outside the
adapter modules written for them, so ``import qmlsim`` needs the core dependencies only.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qmlsim"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# libraries outside the core install; import them only where they are needed
OPTIONAL = {
    "qiskit", "qiskit_aer", "qiskit_ibm_runtime", "qiskit_machine_learning", "qiskit_qasm3_import",
    "pennylane", "pennylane_lightning", "cupy", "cuquantum", "torch", "sklearn", "openqasm3",
}
# modules written for one optional library (converters, executors, the cuStateVec path):
# they may import it at module level, provided no other module imports them at module level
ADAPTERS = (
    "qmlsim/circuits/convert/qiskit.py",
    "qmlsim/circuits/convert/pennylane.py",
    "qmlsim/circuits/convert/qasm.py",
    "qmlsim/simulators/executors/",
    "qmlsim/simulators/custatevec.py",
)


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    line: int
    lazy: bool  # inside a function, or guarded by try/except ImportError or TYPE_CHECKING

    @property
    def root(self) -> str:
        return self.module.split(".")[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, path: Path) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = _module_name(path).split(".")
        if path.name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join(package + ([node.module] if node.module else []))
    if node.module is None:  # from . import a, b
        return [f"{base}.{alias.name}" for alias in node.names]
    # `from qmlsim import cli` may import the submodule qmlsim.cli: record both readings
    return [base] + [f"{base}.{alias.name}" for alias in node.names if base.split(".")[0] == "qmlsim"]


def _guards_import_error(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = []
        if isinstance(handler.type, ast.Name):
            names = [handler.type.id]
        elif isinstance(handler.type, ast.Tuple):
            names = [e.id for e in handler.type.elts if isinstance(e, ast.Name)]
        if {"ImportError", "ModuleNotFoundError", "Exception"} & set(names):
            return True
    return False


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, source: str | None = None) -> list[Import]:
    """Every import in the file at ``path`` (or in ``source``, read as if it were at ``path``)."""
    tree = ast.parse(path.read_text() if source is None else source, filename=str(path))
    found: list[Import] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_lazy = lazy
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                child_lazy = True
            elif isinstance(child, ast.Try) and _guards_import_error(child):
                for stmt in child.body:
                    visit_stmt(stmt, True)
                for part in child.handlers + child.orelse + child.finalbody:
                    visit(part, lazy) if not isinstance(part, ast.stmt) else visit_stmt(part, lazy)
                continue
            elif isinstance(child, ast.If) and _is_type_checking(child):
                child_lazy = True
            visit_stmt(child, child_lazy)

    def visit_stmt(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.extend(Import(name, node.lineno, lazy) for name in _absolute(node, path))
        visit(node, lazy)

    visit(tree, False)
    return found


def _files(under: str) -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py")) if under else sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _ids(paths: list[Path]) -> list[str]:
    return [_rel(p) for p in paths]


ALL_FILES = _files("")
CIRCUIT_FILES = _files("circuits")
SIMULATOR_FILES = _files("simulators")


def test_files_found():
    assert CIRCUIT_FILES and SIMULATOR_FILES


@pytest.mark.parametrize("path", CIRCUIT_FILES, ids=_ids(CIRCUIT_FILES))
def test_circuits_import_only_numpy_and_stdlib(path):
    in_convert = "/convert/" in _rel(path)
    for imp in imports_of(path):
        if imp.root == "qmlsim":
            assert imp.module.startswith("qmlsim.circuits") or imp.module in ("qmlsim", "qmlsim._version"), (
                f"{_rel(path)}:{imp.line} imports {imp.module}: the circuit layer imports no higher layer"
            )
            continue
        if imp.root in STDLIB or imp.root == "numpy":
            continue
        allowed = in_convert and imp.root in OPTIONAL | {"sympy"} and (imp.lazy or _rel(path).startswith(ADAPTERS))
        assert allowed, (
            f"{_rel(path)}:{imp.line} imports {imp.module}; qmlsim.circuits may import only NumPy and the "
            "standard library (converters import their library inside functions)"
        )


@pytest.mark.parametrize("path", SIMULATOR_FILES, ids=_ids(SIMULATOR_FILES))
def test_simulators_do_not_import_qml_or_cli(path):
    for imp in imports_of(path):
        assert not imp.module.startswith(("qmlsim.qml", "qmlsim.cli")), (
            f"{_rel(path)}:{imp.line} imports {imp.module}: simulators must not import the qml layer or the CLI"
        )


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_nothing_imports_the_cli(path):
    if path.name == "cli.py" and path.parent == PACKAGE:
        return
    for imp in imports_of(path):
        assert not imp.module.startswith("qmlsim.cli"), f"{_rel(path)}:{imp.line} imports the CLI"


@pytest.mark.parametrize("path", CIRCUIT_FILES + SIMULATOR_FILES, ids=_ids(CIRCUIT_FILES + SIMULATOR_FILES))
def test_optional_libraries_are_imported_lazily(path):
    if _rel(path).startswith(ADAPTERS):
        return
    for imp in imports_of(path):
        assert imp.root not in OPTIONAL or imp.lazy, (
            f"{_rel(path)}:{imp.line} imports optional {imp.root} at module level; import it inside the "
            "function that needs it so `import qmlsim` works with the core install"
        )


def test_import_qmlsim_loads_no_optional_library():
    code = (
        "import sys, qmlsim, qmlsim.circuits, qmlsim.simulators; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(OPTIONAL)!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent, check=True)
    assert out.stdout.strip() == "[]", f"import qmlsim loaded {out.stdout.strip()}"


def _adapter_modules() -> set[str]:
    return {_module_name(p) for p in ALL_FILES if _rel(p).startswith(ADAPTERS)}


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_adapters_are_imported_lazily(path):
    """Adapter modules import their library at module level, so they themselves are imported lazily."""
    if _rel(path).startswith(ADAPTERS):
        return
    adapters = _adapter_modules()
    for imp in imports_of(path):
        assert imp.lazy or imp.module not in adapters, (
            f"{_rel(path)}:{imp.line} imports adapter {imp.module} at module level; import it where it is used"
        )


def test_checker_sees_lazy_and_top_level():
    """The checker itself: a top-level import is not lazy; one in a function or a guarded try is."""
    source = (
        "import qiskit\n"
        "try:\n    import cupy\nexcept ImportError:\n    cupy = None\n"
        "def f():\n    import pennylane\n"
        "from . import sibling\n"
        "from ..simulators import kernels\n"
    )
    found = {i.module: i.lazy for i in imports_of(PACKAGE / "circuits" / "probe.py", source)}
    assert found == {
        "qiskit": False,
        "cupy": True,
        "pennylane": True,
        "qmlsim.circuits.sibling": False,
        "qmlsim.simulators": False,
        "qmlsim.simulators.kernels": False,
    }


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_module_boundary(path):
    """``from qmlsim.x import _name`` is refused: what another module needs is public there."""
    tree = ast.parse(path.read_text())
    private = [
        f"{node.module}.{alias.name} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qmlsim")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert not private, f"{path.name} imports private names: {private}"
