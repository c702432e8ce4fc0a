"""CPU seconds, lifetime and largest resident memory of every process a command starts: where a
build's time (and memory) goes.

    python bench/processes.py newsfm build CORPUS OUT --no-progress

Samples the command's process tree every half second (psutil) and prints, per process, its CPU
seconds, the seconds (from the start) in which it was seen and its largest RSS (the kernel's
high-water mark, `VmHWM`, where Linux gives it; else the largest sampled), the busiest first.
A process that lives less than half a second may be missed. bench/PROFILE.md reads builds so.
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil

SAMPLE_S = 0.5


def main() -> None:
    command = sys.argv[1:]
    started = time.monotonic()
    tool = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(tool.pid)
    seen: dict[int, tuple[str, float, float, float, float]] = {}  # pid → command line, CPU s, first and last seen, MB
    while tool.poll() is None:
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        now = time.monotonic() - started
        for process in processes:
            try:
                cpu, rss_mb = process.cpu_times(), max(process.memory_info().rss, high_water_mark(process)) / 2**20
                _line, _cpu, first, _last, largest = seen.get(process.pid, ("", 0.0, now, now, 0.0))
                seen[process.pid] = (" ".join(process.cmdline())[:90], cpu.user + cpu.system, first, now, max(largest, rss_mb))
            except psutil.Error:
                pass
        time.sleep(SAMPLE_S)
    print(f"wall {time.monotonic() - started:.1f} s, exit {tool.returncode}")
    for pid, (line, cpu, first, last, largest) in sorted(seen.items(), key=lambda item: -item[1][1]):
        print(f"{cpu:7.1f} CPU s  {first:5.1f}-{last:5.1f} s  {largest:5.0f} MB  {pid} {line}")


def high_water_mark(process: psutil.Process) -> int:
    """The most memory the process has held resident so far, in bytes (0 where unknown)."""
    try:
        with open(f"/proc/{process.pid}/status") as status:
            return next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:")), 0)
    except OSError:
        return 0


if __name__ == "__main__":
    main()
