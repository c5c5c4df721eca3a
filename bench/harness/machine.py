"""The machine and the versions under test, for the table header and the JSON."""
import os
import platform
import re
import subprocess
import time
from pathlib import Path

from .procs import PG_BIN, run


def _cpuinfo_field(name: str) -> str:
    m = re.search(rf"^{name}\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return m.group(1).strip() if m else "?"


def _meminfo_gib() -> float:
    m = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    return round(int(m.group(1)) / 1024 / 1024, 1)


def _first_line(cmd: list) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def disk_of(path: Path) -> str:
    """The file system and block device holding path (where a file:// replica lives)."""
    fields = _first_line(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "-T", str(path)]).split()
    if len(fields) < 2:
        return "?"
    dev = Path(fields[0]).name.rstrip("0123456789") if fields[0].startswith("/dev/") else ""
    rot = Path(f"/sys/block/{dev}/queue/rotational")
    kind = f"queue/rotational={rot.read_text().strip()}" if rot.exists() else "?"
    virtio = ", virtio" if dev.startswith("vd") else ""
    return f"{fields[1]} on {fields[0]} ({kind}{virtio})"


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def source_of(binary: Path, repo: Path) -> str:
    """Which build is measured: the repository commit and the binary's build time (copy2 keeps it)."""
    commit = _first_line(["git", "-C", str(repo), "log", "-1", "--format=%h"])
    dirty = subprocess.run(["git", "-C", str(repo), "diff", "--quiet", "HEAD", "--", ".", ":!bench"],
                           capture_output=True).returncode
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(binary.stat().st_mtime))
    return f"commit {commit}{'+local changes' if dirty else ''}, binary built {built}"


def describe(monolite_bin: Path, repo: Path) -> dict:
    versions = dict(line.split(" ", 1) for line in run([monolite_bin, "version"]).splitlines()
                    if " " in line)
    return {
        "cpu": _cpuinfo_field("model name"),
        "cores": os.cpu_count(),
        "memory_gib": _meminfo_gib(),
        "kernel": platform.release(),
        "os": _first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "monolite": versions.get("monolite", "?"),
        "monolite_source": source_of(monolite_bin, repo),
        "sqlite": versions.get("SQLite", "?"),
        "boost": versions.get("Boost", "?"),
        "postgresql": _first_line([str(PG_BIN / "postgres"), "--version"]),
        "wrk": _first_line(["wrk", "-v"]).split(" [")[0],
        "loadavg_start": loadavg(),
    }
