"""qmlsim: a fast, batched, differentiable statevector simulator for quantum machine learning."""
from pathlib import Path

from setuptools import find_packages, setup

version = {}
exec((Path(__file__).parent / "qmlsim" / "_version.py").read_text(), version)

CORE = [
    "numpy>=1.26",
    "scipy>=1.11",
    "jax>=0.4.30",
    "jaxlib>=0.4.30",
    "optax>=0.2.2",
    "numba>=0.60",
    "qiskit>=1.3",
    "qiskit-aer>=0.15",
    "sympy>=1.12",  # Qiskit's ParameterExpression.sympify, used by from_qiskit
    "pennylane>=0.40",
    "scikit-learn>=1.5",
    "tqdm>=4.66",
    "matplotlib>=3.8",
]
DISTRIBUTED = ["dask>=2024.8", "distributed>=2024.8", "zarr>=3.0"]  # zarr 3: the Gram store's API
RL = ["gymnasium>=0.29", "minigrid>=2.3"]
TEST = DISTRIBUTED + [  # the DaskExecutor tests run a LocalCluster
    "pytest>=8",
    "pytest-xdist>=3.5",
    "hypothesis>=6.100",
    "qiskit-ibm-runtime>=0.30",
    "qiskit-machine-learning>=0.8",
    "pennylane-lightning>=0.40",
    "pytest-mock>=3.12",  # needed by PennyLane's pl-device-test suite
    "flaky>=3.8",
    # the reference QKAN package, a test/bench-only opponent; torch pinned to the CPU build on disk
    "torch==2.13.0",
    "qkan>=0.2.3",
    "pyqsp>=0.2.0",  # the reference QSP angle finder (tests and the qsp benchmark)
] + RL  # the A2C tests run CartPole
BENCH = TEST + ["qulacs>=0.6"]
DOCS = [
    "sphinx>=7.3",
    "myst-parser>=3.0",  # the Markdown pages as they are
    "sphinx-gallery>=0.16",  # runnable examples (examples/*.py)
    "pydata-sphinx-theme>=0.15",
]

setup(
    name="qmlsim",
    version=version["__version__"],
    description=__doc__,
    long_description=(Path(__file__).parent / "README.md").read_text() if (Path(__file__).parent / "README.md").exists() else __doc__,
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["qmlsim", "qmlsim.*"]),
    package_data={"qmlsim": ["simulators/executors/*.toml", "**/*.toml"]},
    install_requires=CORE,
    extras_require={
        "gpu": ["cupy-cuda12x>=13"],
        "ibm": ["qiskit-ibm-runtime>=0.30"],
        "test": TEST,
        "bench": BENCH,
        "docs": DOCS,
        "distributed": DISTRIBUTED,
        "rl": RL,
    },
    entry_points={
        "console_scripts": ["qmlsim=qmlsim.cli:main"],
        "pennylane.plugins": ["qmlsim.statevector=qmlsim.simulators.executors.pennylane_device:QmlsimDevice"],
    },
)
