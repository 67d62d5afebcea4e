"""Executors that send qmlsim circuits to Qiskit backends and PennyLane devices, and qmlsim inside those ecosystems."""
