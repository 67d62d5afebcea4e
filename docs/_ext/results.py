"""Sphinx extension: the numbers the documentation quotes, read from the JSON in ``docs/results/``.

The benchmarks (``python benchmarks/run.py SUITE --results-dir docs/results``) and the
experiments (``qmlsim experiment NAME``, summaries copied here) write JSON; the pages
never type a measured number by hand:

- a table of benchmark rows, with the date, commit, thread count and machine of the run::

      ```{results-table} engine-2threads.json
      :cases: small single call, small bulk
      :impls: qmlsim numba, qulacs
      ```

  ``:cases:`` and ``:impls:`` keep the rows whose case / implementation starts with one
  of the comma-separated prefixes (all rows without them); ``:columns:`` picks the columns
  after case and impl (default ``time, ratio, note``; any key of the rows, ``time`` being
  ``seconds``).
- one number in running text: ``{result}`engine-2threads.json|small single call (per call)|qmlsim numba```
  gives the row's time; a fourth field names another key (``ratio``, ``test_mse``). For
  other JSON, ``{result}`havlicek.json|$.summary.qsvc.mean``` follows a dotted path.

A missing file, case or key fails the build (Sphinx runs with warnings as errors).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from benchmarks.run import format_seconds  # one formatting for the benchmark tables and the docs

RESULTS = Path(__file__).resolve().parents[1] / "results"


@functools.cache
def load(name: str) -> dict:
    path = RESULTS / name
    if not path.is_file():
        raise ExtensionError(f"docs/results/{name} does not exist; available: {sorted(p.name for p in RESULTS.glob('*.json'))}")
    return json.loads(path.read_text())


def format_value(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key == "seconds":
        return format_seconds(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def find_row(name: str, case: str, impl: str) -> dict:
    rows = [r for r in load(name)["rows"] if r["case"] == case and r["impl"] == impl]
    if not rows:
        cases = sorted({(r["case"], r["impl"]) for r in load(name)["rows"] if r["case"] == case}) or sorted(
            {r["case"] for r in load(name)["rows"]}
        )
        raise ExtensionError(f"docs/results/{name} has no row ({case!r}, {impl!r}); it has {cases}")
    return rows[0]


def follow(data: Any, path: str, name: str) -> Any:
    for key in path.split("."):
        try:
            data = data[int(key)] if isinstance(data, list) else data[key]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ExtensionError(f"docs/results/{name} has no {path!r} (stopped at {key!r})") from None
    return data


def provenance(name: str) -> str:
    data = load(name)
    machine = data.get("machine", {})
    threads = machine.get("threads")
    parts = [f"`docs/results/{name}`"]
    if "suite" in data:
        parts.append(f"suite `{data['suite']}`{' (quick)' if data.get('quick') else ''}")
    if machine.get("date_utc"):
        parts.append(f"run {machine['date_utc'][:16].replace('T', ' ')} UTC")
    if machine.get("commit"):
        parts.append(f"commit {machine['commit'][:8]}")
    if threads:
        parts.append(f"{threads} thread{'s' if threads > 1 else ''} for every implementation")
    cpus = machine.get("cpu_count") or machine.get("cpu_count_usable")
    if cpus:  # the machine's CPUs (a run limited to fewer threads records its own affinity as usable)
        parts.append(f"on a {cpus}-CPU {machine.get('processor', '')} machine".replace("  ", " "))
    return "From " + ", ".join(parts) + "."


def _prefixes(option: str | None) -> tuple[str, ...] | None:
    return None if option is None else tuple(p.strip() for p in option.split(",") if p.strip())


def _column(row: dict, column: str) -> str:
    if column == "time":
        return format_seconds(row["seconds"]) + (" (extrapolated)" if row.get("extrapolated") else "")
    if column == "note":
        return str(row.get("note", ""))
    return format_value(column, row.get(column))


def _cell(text: str) -> nodes.entry:
    entry = nodes.entry()
    entry += nodes.paragraph(text=text)
    return entry


class ResultsTable(SphinxDirective):
    """``results-table FILE``: the rows of a benchmark's JSON as a table, with where they come from."""

    required_arguments = 1
    option_spec = {"cases": directives.unchanged, "impls": directives.unchanged, "columns": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        cases, impls = _prefixes(self.options.get("cases")), _prefixes(self.options.get("impls"))
        rows = [
            r for r in load(name)["rows"]
            if (cases is None or str(r["case"]).startswith(cases)) and (impls is None or str(r["impl"]).startswith(impls))
        ]
        if not rows:
            raise self.error(f"results-table {name}: no row matches cases={cases} impls={impls}")
        self.env.note_dependency(str(RESULTS / name))
        columns = _prefixes(self.options.get("columns")) or ("time", "ratio", "note")
        header = ("case", "impl", *columns)
        table = nodes.table()
        group = nodes.tgroup(cols=len(header))
        table += group
        for title in header:
            group += nodes.colspec(colwidth=30 if title in ("case", "impl", "note") else 10)
        head = nodes.thead()
        row = nodes.row()
        for title in header:
            row += _cell(title)
        head += row
        group += head
        body = nodes.tbody()
        for r in rows:
            row = nodes.row()
            for text in (str(r["case"]), str(r["impl"]), *(_column(r, c) for c in columns)):
                row += _cell(text)
            body += row
        group += body
        caption = nodes.paragraph()
        caption += nodes.emphasis(text=provenance(name).replace("`", ""))
        return [caption, table]


def result_role(name, rawtext, text, lineno, inliner, options=None, content=None):  # noqa: ANN001, ARG001 - docutils role signature
    """``{result}`FILE|CASE|IMPL[|KEY]``` or ``{result}`FILE|$.dotted.path```: one number from the JSON."""
    fields = text.split("|")
    try:
        if len(fields) == 2 and fields[1].startswith("$."):
            value = follow(load(fields[0]), fields[1][2:], fields[0])
            key = fields[1].rsplit(".", 1)[-1]
        elif len(fields) in (3, 4):
            key = fields[3] if len(fields) == 4 else "seconds"
            row = find_row(*fields[:3])
            if key not in row:
                raise ExtensionError(f"docs/results/{fields[0]} row ({fields[1]!r}, {fields[2]!r}) has no {key!r}")
            value = row[key]
        else:
            raise ExtensionError("write {result}`FILE|CASE|IMPL[|KEY]` or {result}`FILE|$.dotted.path`")
    except ExtensionError as err:
        message = inliner.reporter.error(f"{{result}}`{text}`: {err}", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    inliner.document.settings.env.note_dependency(str(RESULTS / fields[0]))
    return [nodes.Text(format_value(key if key in ("seconds", "ratio") else "", value))], []


def setup(app):  # noqa: ANN001, ANN201 - Sphinx entry point
    app.add_directive("results-table", ResultsTable)
    app.add_role("result", result_role)
    return {"version": "1", "parallel_read_safe": True}
