"""Where a benchmark's CPU went, from /proc (Linux): some processes by pid, a PostgreSQL cluster
(its postmaster and every backend, the exited ones included), this process, and the whole
machine, so a figure measured on shared cores says how much of them it had."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (index 0 is the state)."""
    text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    return text.rsplit(")", 1)[1].split()


def process_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a live process (and of its children it has waited for)."""
    try:
        fields = _stat(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def cluster_seconds(data: Path) -> float:
    """A PostgreSQL cluster's CPU: the postmaster with the backends it reaped, plus the live
    ones (its children now)."""
    postmaster = int((data / "postmaster.pid").read_text(encoding="ascii").split()[0])
    total = process_seconds(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = _stat(int(entry))
            except OSError:
                continue
            if int(fields[1]) == postmaster:
                total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_seconds() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core together."""
    columns = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = columns[3] + columns[4]  # idle + iowait
    return (sum(columns[:8]) - idle) / _TICK, sum(columns[:8]) / _TICK


@dataclass(frozen=True)
class Reading:
    """One moment's CPU counters: per part (seconds so far) and the machine's."""

    parts: dict[str, float]
    busy: float
    total: float

    def since(self, start: Reading) -> dict[str, float]:
        """Seconds each part used since `start`, and "others": the machine's busy time that was
        none of them (other work on the same cores)."""
        used = {name: value - start.parts.get(name, 0.0) for name, value in self.parts.items()}
        used["others"] = max(0.0, (self.busy - start.busy) - sum(used.values()))
        return used


def read(parts: dict[str, float]) -> Reading:
    busy, total = machine_seconds()
    return Reading(parts, busy, total)
