"""CPU seconds and lifetime of every process a command starts: where a build's time goes.

    python bench/processes.py newsfm build CORPUS OUT --no-progress

Samples the command's process tree every half second (psutil) and prints, per process, its CPU
seconds and the seconds (from the start) in which it was seen, the busiest first. A process
that lives less than half a second may be missed. bench/PROFILE.md reads builds so.
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
    seen: dict[int, tuple[str, float, float, float]] = {}  # pid → command line, CPU s, first and last seen
    while tool.poll() is None:
        try:
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        now = time.monotonic() - started
        for process in processes:
            try:
                cpu = process.cpu_times()
                first = seen.get(process.pid, ("", 0.0, now, now))[2]
                seen[process.pid] = (" ".join(process.cmdline())[:90], cpu.user + cpu.system, first, now)
            except psutil.Error:
                pass
        time.sleep(SAMPLE_S)
    print(f"wall {time.monotonic() - started:.1f} s, exit {tool.returncode}")
    for pid, (line, cpu, first, last) in sorted(seen.items(), key=lambda item: -item[1][1]):
        print(f"{cpu:7.1f} CPU s  {first:5.1f}-{last:5.1f} s  {pid} {line}")


if __name__ == "__main__":
    main()
