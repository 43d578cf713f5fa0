"""The machine's description, process memory, and bench/RESULTS.md sections that each script rewrites."""
from __future__ import annotations

import os
import platform
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from .common import ROOT

RESULTS = ROOT / "bench" / "RESULTS.md"


def machine() -> dict[str, str]:
    """nproc, memory, CPU model, kernel, PostgreSQL version, load average now."""
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text()) if Path("/proc/meminfo").exists() \
        else None
    try:
        pg = subprocess.run(["psql", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except FileNotFoundError:
        pg = "?"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "memory": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?",
        "cpu": model.group(1).strip() if model else platform.processor() or "?",
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "load average": " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists()
        else "?",
    }


def machine_markdown(info: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def command_line() -> str:
    """How this script was run, as a copy-pasteable command from the repository root."""
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])


def children_of(pid: int) -> list[int]:
    """Direct child processes (gunicorn's workers are its master's children)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(entry.name))
    return sorted(kids)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB: resident now, and its peak."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    rss = re.search(r"VmRSS:\s*(\d+) kB", status)
    hwm = re.search(r"VmHWM:\s*(\d+) kB", status)
    return (int(rss.group(1)) / 1024 if rss else 0.0), (int(hwm.group(1)) / 1024 if hwm else 0.0)


def update_results(section: str, body: str) -> None:
    """Replace (or append) the block between this section's markers in bench/RESULTS.md, keeping the rest."""
    begin, end = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text)
