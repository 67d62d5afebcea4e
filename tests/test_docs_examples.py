"""Every ```python block of README.md and docs/*.md runs as copied.

A block preceded by ``<!-- continued -->`` runs after the block before it (in one
process); a block that cannot run here says so with ``<!-- fragment: REASON -->`` right
before it and is listed, with its reason, instead of run; ``<!-- slow -->`` marks a
block that takes several seconds (training, a PennyLane device), which then runs in the
slow step (``pytest -m slow``, CI's second step) instead of the default run. Blocks run in
a fresh interpreter in a temporary folder (files they write stay there).
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"(?:<!--\s*(continued|slow|fragment:[^>]*?)\s*-->\s*\n)?```python\n(.*?)```", re.S)


def _programs() -> list[tuple[str, str | None, str, bool]]:
    """``(id, skip reason or None, code, slow)`` per runnable program (continued blocks joined)."""
    programs: list[list] = []
    for document in DOCUMENTS:
        text = document.read_text()
        for match in _BLOCK.finditer(text):
            marker, code = match.group(1) or "", match.group(2)
            line = text[: match.start(2)].count("\n")
            ident = f"{document.name}:{line}"
            if marker == "continued":
                assert programs and programs[-1][0].startswith(document.name), f"{ident}: nothing to continue"
                programs[-1][2] += "\n" + code
                programs[-1][0] += f"+{line}"
            elif marker.startswith("fragment:"):
                reason = marker.split(":", 1)[1].strip()
                assert reason, f"{ident}: a fragment must say why it cannot run"
                programs.append([ident, reason, code, False])
            else:
                programs.append([ident, None, code, marker == "slow"])
    return [tuple(p) for p in programs]


PROGRAMS = _programs()


def test_documents_have_examples():
    assert len(PROGRAMS) >= 10


@pytest.mark.parametrize(
    "ident, reason, code",
    [pytest.param(*p[:3], marks=[pytest.mark.slow] if p[3] else [], id=p[0]) for p in PROGRAMS],
)
def test_documented_example_runs(ident, reason, code, tmp_path):
    if reason is not None:
        pytest.skip(f"fragment: {reason}")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, f"{ident} failed:\n{result.stderr[-3000:]}"
