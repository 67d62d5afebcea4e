"""qmlsim's benchmarks: ``python benchmarks/run.py [suite|all] [--quick]`` (see ``run.py``)."""
