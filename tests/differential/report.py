"""Sum the differential harness's tallies: ``python -m tests.differential.report DIR [PREFIX]``.

Prints, per path and dtype, the circuits run, the checks made and the worst error of
each kind of check (for samples, 1 - p-value of the chi-square test).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def merge(folder: str, prefix: str = "") -> dict:
    total: dict = {"circuits": {}, "checks": {}, "worst": {}, "seconds": {}}
    for file in sorted(Path(folder).glob(f"{prefix}*.json")):
        part = json.loads(file.read_text())
        for key, count in part["circuits"].items():
            total["circuits"][key] = total["circuits"].get(key, 0) + count
        for key, seconds in part.get("seconds", {}).items():
            total["seconds"][key] = total["seconds"].get(key, 0.0) + seconds
        for key, checks in part["checks"].items():
            for check, count in checks.items():
                total["checks"].setdefault(key, {}).setdefault(check, 0)
                total["checks"][key][check] += count
        for key, worst in part["worst"].items():
            for check, error in worst.items():
                mine = total["worst"].setdefault(key, {})
                mine[check] = max(mine.get(check, 0.0), error)
    return total


def main() -> None:
    folder = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) > 2 else ""
    total = merge(folder, prefix)
    print(f"{'path':34s} {'circuits':>8s} {'checks':>7s} {'seconds':>8s}  worst error per check")
    for key in sorted(total["circuits"]):
        checks = sum(total["checks"].get(key, {}).values())
        worst = ", ".join(f"{c} {e:.1e}" for c, e in sorted(total["worst"].get(key, {}).items()))
        seconds = total["seconds"].get(key, 0.0)
        print(f"{key:34s} {total['circuits'][key]:8d} {checks:7d} {seconds:8.1f}  {worst}")
    print(f"{'total':34s} {sum(total['circuits'].values()):8d} {sum(sum(c.values()) for c in total['checks'].values()):7d}")


if __name__ == "__main__":
    main()
