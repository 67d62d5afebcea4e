"""
Hardware submission with a job journal (on a fake IBM backend)
==============================================================

``QiskitExecutor`` transpiles once, sweeps all input rows through one job, and writes
every job to a journal as soon as it is submitted. ``estimate`` shows what a call
would send before any money is spent; ``resume`` restores the recorded options and
reuses stored results, so nothing is paid for twice. ``FakeManilaV2`` runs offline
with a noise model of the real device.
"""
import tempfile
from pathlib import Path

import numpy as np
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

from qmlsim.circuits import Circuit, Z
from qmlsim.simulators import QiskitExecutor, Simulator

c = Circuit(2)
x = c.inputs(1)
c.ry(x[0], 0).cx(0, 1)  # <Z1> = cos(x)
xs = np.linspace(0, np.pi, 5)[:, None]
journal = Path(tempfile.mkdtemp()) / "manila.jsonl"

ex = QiskitExecutor(FakeManilaV2(), shots=2000, seed=7, journal=journal)
print("would submit:", ex.estimate("expval", c, Z(1), x=xs))
values, stderr = ex.expval_with_error(c, Z(1), x=xs)
print("noisy <Z1>:", np.round(values, 3), "+-", np.round(stderr, 3))
print("ideal <Z1>:", np.round(Simulator().expval(c, Z(1), x=xs), 3))

resumed = QiskitExecutor.resume(journal, FakeManilaV2())   # shots=2000, seed=7 come back from the journal
again = resumed.expval(c, Z(1), x=xs)
print("resumed:", resumed.resume_summary, "new submissions:", resumed.submissions)
