"""Benchmark newsfm against the peers a user would reach for, as whole processes on one corpus.

    python bench/run.py --sizes 20000 100000 [--seed 0] [--work /tmp/newsfm-bench]
                        [--only naive,dlt,newsfm,newsfm-no-head-start,newsfm-again,newsfm-server,newsfm-kept] [--timeout 1800]
                        [--style smartable pydump hand mix]
    python bench/run.py --sizes 100000 1000000 --incremental 1 1000 --reuse-corpus

For each style and size: generate a corpus once (`newsfm generate N DIR --seed S --style X`),
then run each tool
as a subprocess into a fresh output folder and measure wall seconds, news files per second,
peak RSS of the whole process tree (sampled every 50 ms, summed over the process and all its
descendants) and of the largest single process of each role (the tool's own process, Prefect's
server, the workers: parse workers, combine and analytics), user+sys CPU seconds of the tree, and the tables and rows it wrote. Prints a
Markdown table per size and writes bench/RESULTS.md (sizes not run this time are kept; with
--only, the tools not run are kept from the previous run of the same corpus). With --incremental,
the incremental lines of each size instead (bench/incremental.py), kept beside the race's.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import pyarrow.parquet as pq
from processes import high_water_mark

from newsfm.pipelines.head_start import SWITCH as HEAD_START_SWITCH
from newsfm.pipelines.kept_api import RECORD as KEPT_API_RECORD

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
DATA_MARKER = "bench-data"
SAMPLE_SECONDS = 0.05
PR_SET_CHILD_SUBREAPER = 36
BUSY_SHARE = 0.1  # other processes using more than this share of one core during a run disturb it
PEERS = ("naive", "dlt")
STYLES = ("smartable", "pydump", "hand", "mix")  # `newsfm generate --style`: how the front matter is written
TOOLS = {
    "naive": "naive notebook (python-frontmatter + pandas.json_normalize)",
    "dlt": "dlt → Parquet on a local filesystem destination",
    "newsfm": "`newsfm build` (full)",
    "newsfm-no-head-start": "`newsfm build` (full) with `NEWSFM_HEAD_START=0`: nothing parsed while Prefect's API starts "
                            "(what the head start saves is this line's wall against newsfm's)",
    "newsfm-again": "`newsfm build` again into the same output, nothing changed (incremental: nothing to parse)",
    "newsfm-server": "`newsfm build` (full) against a Prefect server already running (`PREFECT_API_URL`), "
                     "as scheduled and repeated builds run: no temporary server to start; the server is not measured",
    "newsfm-kept": "`newsfm build` (full) against the temporary Prefect API an earlier command kept "
                   "(`newsfm build --keep-api`), as a CLI user's later builds run; neither that command nor the API is measured",
}
PACKAGES = (
    "newsfm", "pandas", "pyarrow", "pyyaml", "prefect", "click", "rich", "matplotlib",
    "python-frontmatter", "dlt", "psutil",
)


@dataclass
class Run:
    tool: str
    status: str = "ok"  # ok | failed (exit N) | timeout
    wall_s: float = 0.0
    files_per_s: float = 0.0
    peak_rss_mb: float = 0.0
    cpu_s: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    date: str = ""
    log: str = ""
    git: str = ""  # the commit measured
    other_cpu_s: float = 0.0  # CPU seconds the rest of the machine used meanwhile (not the tool, not this harness)
    flow_s: float | None = None  # newsfm: seconds inside the flow, i.e. the work after Prefect's start-up
    # the peak RSS of the largest single process of each role: the tool's own process (for newsfm
    # the flow), the Prefect server it started, and the other processes (parse workers, combine and analytics)
    peak_process_mb: dict[str, float] = field(default_factory=dict)
    walls_s: list[float] = field(default_factory=list)  # with --repeat, every run's wall; the fields above are the median run's


FLOW_SECONDS = re.compile(r"took [\d.]+ s \(([\d.]+) s in the flow")


def flow_seconds(log: Path) -> float | None:
    """What `newsfm build` reports as its time inside the flow (the rest of the wall is start-up)."""
    match = FLOW_SECONDS.search(log.read_text(errors="replace")) if log.exists() else None
    return float(match.group(1)) if match else None


# ---------------------------------------------------------------------------------------------
# the corpus


def generator_available() -> bool:
    return importlib.util.find_spec("newsfm.synthetic.write") is not None


def newsfm_command() -> list[str]:
    script = Path(sys.executable).parent / "newsfm"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from newsfm.pipelines.cli import main; main()"]


def make_corpus(size: int, seed: int, style: str, work: Path, reuse: bool, templates: Path) -> tuple[Path, dict]:
    """Generate the corpus for `size` with its front matter in `style` (or reuse it); returns its
    folder and a description."""
    shown = templates.relative_to(ROOT) if templates.is_relative_to(ROOT) else templates
    kind = "newsfm generate" if generator_available() else f"copies of {shown}/*.md (no generator yet)"
    corpus = work / f"corpus-{size}-seed{seed}{style_suffix(style)}"
    marker = corpus / ".bench-corpus.json"
    wanted = {"size": size, "seed": seed, "kind": kind, **({"style": style} if style != "smartable" else {})}
    if reuse and marker.exists() and json.loads(marker.read_text()).get("corpus") == wanted:
        info = json.loads(marker.read_text())
        print(f"reusing corpus {corpus} ({info['news_files']} news files)", flush=True)
        return corpus, info
    shutil.rmtree(corpus, ignore_errors=True)
    started = time.perf_counter()
    if generator_available():
        print(f"generating {size} files into {corpus} (seed {seed}) ...", flush=True)
        subprocess.run([*newsfm_command(), "generate", str(size), str(corpus), "--seed", str(seed), "--style", style],
                       check=True, cwd=ROOT)
    else:
        print(f"WARNING: synthetic/write.py is missing: corpus = {size} copies of {templates}/*.md", flush=True)
        copy_templates(templates, corpus, size)
    seconds = time.perf_counter() - started
    files = [p for p in corpus.rglob("*") if p.is_file() and not p.name.startswith(".")]
    info = {
        "corpus": wanted,
        "path": str(corpus),
        "news_files": sum(1 for p in files if p.suffix == ".md"),
        "other_files": sum(1 for p in files if p.suffix != ".md"),
        "megabytes": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "generate_s": round(seconds, 1),
    }
    marker.write_text(json.dumps(info, indent=2) + "\n")
    print(f"corpus: {info['news_files']} news files, {info['other_files']} others, {info['megabytes']} MB, "
          f"made in {seconds:.1f} s", flush=True)
    return corpus, info


def copy_templates(templates: Path, corpus: Path, size: int) -> None:
    """Stand-in for the generator: `size` copies of the template files, each with its own webUrl."""
    sources = sorted(templates.rglob("*.md"))
    if not sources:
        raise SystemExit(f"no *.md templates under {templates}")
    texts = [p.read_text(encoding="utf-8") for p in sources]

    def new_url(url: str, i: int) -> str:  # a path of its own: newsfm drops fragments when it keys URLs
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/copy-{i}"))

    for i in range(size):
        text = re.sub(r"(?m)^(webUrl:\s*[\"']?)([^\"'\n]+)", lambda m, i=i: m[1] + new_url(m[2], i), texts[i % len(texts)], count=1)
        folder = corpus / "_news" / f"{i // 1000:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:07d}-{sources[i % len(sources)].name}").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# running one tool


def tool_command(tool: str, corpus: Path, out: Path) -> list[str]:
    if tool == "naive":
        return [sys.executable, str(BENCH / "naive_pipeline.py"), str(corpus), str(out)]
    if tool == "dlt":
        return [sys.executable, str(BENCH / "dlt_pipeline.py"), str(corpus), str(out)]
    return [*newsfm_command(), "build", str(corpus), str(out), "--no-progress"]


def become_subreaper() -> bool:
    """Adopt the tools' orphaned descendants (Linux), so they are sampled, reaped and their CPU counted."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def process_role(process: psutil.Process, tool_pid: int) -> str:
    """`main` (the tool's own process), `prefect server` or `other` (parse workers, the fork server,
    newsfm's combine and analytics process)."""
    if process.pid == tool_pid:
        return "main"
    command = " ".join(process.cmdline())
    return "prefect server" if "uvicorn" in command or ("prefect" in command and "server" in command) else "other"


UNMEASURED_GROUPS: set[int] = set()  # process groups of the harness's own helpers (a running Prefect server)


def tree_rss(tool_pid: int, roles: dict[int, str], peaks: dict[str, int]) -> int:
    """Summed RSS of this harness's descendants but its own helpers: the tool and all its
    processes (0 for those that vanish); raises `peaks[role]` to the largest RSS any single
    process of that role has had (its high-water mark, so a peak between samples counts)."""
    try:
        members = psutil.Process().children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        try:
            if os.getpgid(member.pid) in UNMEASURED_GROUPS:
                continue
            rss, largest = member.memory_info().rss, high_water_mark(member)
            if member.pid not in roles:
                roles[member.pid] = process_role(member, tool_pid)
        except (psutil.Error, OSError):  # gone meanwhile
            continue
        total += rss
        peaks[roles[member.pid]] = max(peaks.get(roles[member.pid], 0), rss, largest)
    return total


def reap_adopted(keep: int | None = None) -> None:
    """Reap the adopted orphans that have exited (their CPU time then counts in RUSAGE_CHILDREN)."""
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return
    for child in children:
        if child.pid == keep:
            continue  # the tool itself: subprocess reaps it
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)
        except (psutil.Error, ChildProcessError):
            pass


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent not idle since boot."""
    times = psutil.cpu_times()
    skip = ("idle", "iowait", "steal", "guest", "guest_nice")  # guest time is already in user
    return sum(times) - sum(getattr(times, name, 0.0) for name in skip)


def end_group(pgid: int) -> None:
    """End what is left of a tool's process group (the group we started it in, by its id)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        reap_adopted()
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            reap_adopted()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def measure(tool: str, command: list[str], env: dict, log_path: Path, timeout: float, news_files: int) -> Run:
    """Run `command` to completion (or `timeout`), sampling the RSS of its process tree."""
    run = Run(tool, date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), log=str(log_path),
              git=git_revision())
    reap_adopted()  # leftovers of earlier commands must not count for this one
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_before, busy_before = resource.getrusage(resource.RUSAGE_SELF), busy_cpu_seconds()
    peak, stop = [0], threading.Event()
    roles: dict[int, str] = {}
    process_peaks: dict[str, int] = {}
    with open(log_path, "wb") as log:
        log.write(("$ " + " ".join(command) + "\n").encode())
        log.flush()
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)

        def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid, roles, process_peaks))
                reap_adopted(keep=proc.pid)
                stop.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            code = proc.wait(timeout=timeout)
            run.wall_s = time.perf_counter() - started
            if code != 0:
                run.status = f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            run.wall_s = time.perf_counter() - started
            run.status = f"timeout ({timeout:.0f} s)"
            end_group(proc.pid)
            proc.wait()
        stop.set()
        sampler.join()
    end_group(proc.pid)  # a worker or server the tool left behind
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_after, busy_after = resource.getrusage(resource.RUSAGE_SELF), busy_cpu_seconds()
    run.cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    harness = (self_after.ru_utime - self_before.ru_utime) + (self_after.ru_stime - self_before.ru_stime)
    run.other_cpu_s = max(0.0, busy_after - busy_before - run.cpu_s - harness)
    run.peak_rss_mb = peak[0] / 2**20
    run.peak_process_mb = {role: rss / 2**20 for role, rss in sorted(process_peaks.items())}
    run.files_per_s = news_files / run.wall_s if run.wall_s else 0.0
    return run


# ---------------------------------------------------------------------------------------------
# what each tool wrote


def table_roots(tool: str, out: Path) -> list[tuple[Path, str]]:
    """(folder, how) pairs: `files` = each Parquet file is a table, `dirs` = each sub-folder is one."""
    if tool == "naive":
        return [(out, "files")]
    if tool == "dlt":
        return [(out / "news", "dirs")]
    return [(out / "warehouse", "dirs"), (out / "analytics", "dirs")]  # the published snapshot


def count_tables(tool: str, out: Path) -> dict[str, int]:
    """Rows per output table, from the Parquet footers; dlt's own `_dlt_*` tables are left out."""
    tables: dict[str, int] = {}
    for root, how in table_roots(tool, out):
        if not root.is_dir():
            continue
        if how == "files":
            for file in sorted(root.glob("*.parquet")):
                tables[file.stem] = pq.ParquetFile(file).metadata.num_rows
            continue
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_dlt")):
            files = sorted(folder.rglob("*.parquet"))
            if files:
                tables[folder.name] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    return tables


# ---------------------------------------------------------------------------------------------
# one size, all tools


def style_suffix(style: str) -> str:
    """What names a corpus, an output folder or a record of a style other than the real files' own."""
    return "" if style == "smartable" else f"-{style}"


def record_key(record: dict) -> str:
    return f"{record['size']}{style_suffix(record.get('style', 'smartable'))}"


def run_size(size: int, style: str, args: argparse.Namespace) -> dict:
    work: Path = args.work
    corpus, corpus_info = make_corpus(size, args.seed, style, work, args.reuse_corpus, args.templates)
    news = corpus_info["news_files"]
    outs, logs = work / f"out-{size}{style_suffix(style)}", work / "logs"
    outs.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    base_env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false", "PYTHONUNBUFFERED": "1"}
    prefect_home: Path | None = None
    first_run_s: float | None = None
    server: PrefectServer | None = None  # started for newsfm-server
    server_start_s: float | None = None
    kept_home: Path | None = None  # for newsfm-kept
    runs: dict[str, list[Run]] = {tool: [] for tool in args.only}
    try:
        for tool in [tool for _ in range(args.repeat) for tool in args.only]:  # rounds: the VM's drift falls on every tool
            out = outs / ("newsfm" if tool == "newsfm-again" else tool)
            env = dict(base_env)
            if tool in ("newsfm", "newsfm-no-head-start", "newsfm-again"):
                if prefect_home is None:
                    # a fresh Prefect home per size, warmed up once; "again" and repeats reuse it and
                    # the output folder, as the same user rerunning it would
                    prefect_home = Path(tempfile.mkdtemp(prefix=f"prefect-{size}-", dir=work))
                    env["PREFECT_HOME"] = str(prefect_home)
                    first_run_s = warm_up(env, work, args.timeout)
                    print(f"[{size}] Prefect's first run in a new PREFECT_HOME (a 1-file build, unmeasured): "
                          f"{first_run_s:.1f} s", flush=True)
                env["PREFECT_HOME"] = str(prefect_home)
            if tool == "newsfm-no-head-start":
                env[HEAD_START_SWITCH] = "0"
            if tool == "newsfm-kept":  # a Prefect home of its own: a kept API serves every build of its home
                if kept_home is None:
                    kept_home = Path(tempfile.mkdtemp(prefix=f"prefect-kept-{size}-", dir=work))
                    kept_s = warm_up({**env, "PREFECT_HOME": str(kept_home)}, work, args.timeout,
                                     "--keep-api", str(args.timeout))
                    keeper = json.loads((kept_home / KEPT_API_RECORD).read_text())["keeper"]
                    UNMEASURED_GROUPS.add(keeper)  # the keeper's session: it and the server, as newsfm-server's
                    print(f"[{size}] a 1-file build that keeps its Prefect API (unmeasured): {kept_s:.1f} s", flush=True)
                env["PREFECT_HOME"] = str(kept_home)
            if tool == "newsfm-server":
                if server is None:
                    server = PrefectServer(work)
                    server_start_s = server.started_s
                    print(f"[{size}] a Prefect server started in {server_start_s:.1f} s (unmeasured)", flush=True)
                env.update(server.env)
                warm_up(env, work, args.timeout)  # the flow's first run on this server: its deployment made once
            if tool == "newsfm-again" and not runs.get("newsfm"):
                print(f"[{size}] newsfm-again: first an unmeasured build, so there is something to rebuild", flush=True)
                shutil.rmtree(out, ignore_errors=True)
                setup = subprocess.Popen(tool_command("newsfm", corpus, out), env=env, cwd=ROOT, start_new_session=True,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    setup.wait(timeout=args.timeout)
                finally:
                    end_group(setup.pid)
                if setup.returncode != 0:
                    raise SystemExit(f"the unmeasured newsfm build before newsfm-again failed (exit {setup.returncode})")
            elif tool != "newsfm-again":
                shutil.rmtree(out, ignore_errors=True)
            print(f"[{size}] {tool} ...", end=" ", flush=True)
            run = measure(tool, tool_command(tool, corpus, out), env, logs / f"{size}-{tool}.log", args.timeout, news)
            if run.status == "ok":
                run.tables = count_tables(tool, out)
                if tool.startswith("newsfm"):
                    run.flow_s = flow_seconds(Path(run.log))
            runs[tool].append(run)
            print(f"{run.status}: {run.wall_s:.1f} s, peak {run.peak_rss_mb:.0f} MB, {len(run.tables)} tables"
                  + (f" (other processes used {run.other_cpu_s:.1f} CPU s meanwhile)" if run.other_cpu_s > BUSY_SHARE * run.wall_s else ""),
                  flush=True)
    finally:
        if server is not None:
            server.stop()
        if kept_home is not None:
            subprocess.run([*newsfm_command(), "stop-api"], env={**base_env, "PREFECT_HOME": str(kept_home)}, cwd=ROOT,
                           timeout=60, stdout=subprocess.DEVNULL)
    for home in (prefect_home, kept_home):
        if home is not None:
            shutil.rmtree(home, ignore_errors=True)
    return {"size": size, "seed": args.seed, "style": style, "corpus": corpus_info, "prefect_first_run_s": first_run_s,
            "prefect_server_start_s": server_start_s,
            "runs": {tool: asdict(median_run(repeats)) for tool, repeats in runs.items() if repeats}}


def median_run(repeats: list[Run]) -> Run:
    """The run of median wall time (the slower of the middle two), with every run's wall."""
    middle = sorted(repeats, key=lambda run: run.wall_s)[len(repeats) // 2]
    return Run(**{**asdict(middle), "walls_s": [run.wall_s for run in repeats]}) if len(repeats) > 1 else middle


class PrefectServer:
    """`prefect server start` on a free loopback port with a Prefect home of its own, as the
    server of scheduled builds runs all the time; `env` reaches it (PREFECT_API_URL)."""

    def __init__(self, work: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        home = Path(tempfile.mkdtemp(prefix="prefect-server-", dir=work))
        self.env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
        started = time.perf_counter()
        self.log = open(work / "logs" / "prefect-server.log", "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, **self.env, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        UNMEASURED_GROUPS.add(self.process.pid)
        while not self.healthy():
            if self.process.poll() is not None or time.perf_counter() - started > 180:
                self.stop()
                raise SystemExit(f"the Prefect server did not start: see {self.log.name}")
            time.sleep(0.5)
        self.started_s = time.perf_counter() - started

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.env['PREFECT_API_URL']}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        end_group(self.process.pid)
        self.process.wait()
        UNMEASURED_GROUPS.discard(self.process.pid)
        self.log.close()
        shutil.rmtree(self.env["PREFECT_HOME"], ignore_errors=True)


def warm_up(env: dict, work: Path, timeout: float, *options: str) -> float:
    """Build the seed once in the new PREFECT_HOME; returns its wall seconds.

    A machine's first Prefect run creates the database and runs every migration (seconds, once);
    what users meet on every run is the warm start-up, so that is what the measured build includes.
    """
    out = Path(tempfile.mkdtemp(prefix="warm-up-", dir=work))
    started = time.perf_counter()
    try:
        subprocess.run([*tool_command("newsfm", ROOT / "data" / "raw", out), *options], env=env, cwd=ROOT, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# the report


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor() or "unknown"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "packages": versions,
    }


def git_revision() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True, check=False)
        return head.stdout.strip() + ("+uncommitted changes" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def size_table(record: dict) -> str:
    runs = record["runs"]
    ok_peers = [runs[t]["wall_s"] for t in PEERS if t in runs and runs[t]["status"] == "ok"]
    best = min(ok_peers) if ok_peers else None
    lines = [
        "| tool | wall s | of which start-up s | files/s | peak RSS MB (tree) | largest process MB: main / Prefect server / worker | CPU s | tables written | rows written | wall vs best peer |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for tool in TOOLS:
        if tool not in runs:
            continue
        r = runs[tool]
        ok = r["status"] == "ok"
        ratio = f"{r['wall_s'] / best:.2f}×" if best and ok else "n/a"
        startup = f"{r['wall_s'] - r['flow_s']:.1f}" if r.get("flow_s") is not None else ""
        lines.append(
            f"| {tool}{'' if ok else ' — ' + r['status']} | {r['wall_s']:.1f}{repeats_text(r)} | {startup} | {r['files_per_s']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {process_peaks_text(r.get('peak_process_mb') or {})} | {r['cpu_s']:.1f} | {len(r['tables']) if ok else '—'} | "
            f"{format(sum(r['tables'].values()), ',') if ok else '—'} | {ratio} |"
        )
    full, again = runs.get("newsfm", {}), runs.get("newsfm-again", {})
    if full.get("flow_s") and again.get("flow_s") is not None:
        lines += ["", (f"Work after Prefect's start-up: the full build {full['flow_s']:.1f} s, the rerun with nothing changed "
                       f"{again['flow_s']:.2f} s, that is {100 * again['flow_s'] / full['flow_s']:.1f}% of the full build's.")]
    return "\n".join(lines)


def made_in(corpus: dict) -> str:
    """How long the corpus took to make; a corpus made outside the bench (its marker written by
    hand) has no time."""
    return f"in {corpus['generate_s']} s" if corpus.get("generate_s") is not None else "earlier (not timed)"


def repeats_text(run: dict) -> str:
    """` (median of 41.2 / 38.8 / 39.5)` when the tool ran more than once, else ""."""
    walls = run.get("walls_s") or []
    return f" (median of {' / '.join(f'{wall:.1f}' for wall in walls)})" if len(walls) > 1 else ""


def process_peaks_text(peaks: dict[str, float]) -> str:
    """`main / server / worker` peaks in MB, `–` for a role without a process (or not measured)."""
    return " / ".join(f"{peaks[role]:.0f}" if role in peaks else "–" for role in ("main", "prefect server", "other"))


def disturbed(record: dict) -> str:
    """A warning when other processes used the CPU while tools were measured, or ""."""
    noisy = [
        f"{tool} {r['other_cpu_s']:.0f} CPU s in {r['wall_s']:.0f} s"
        for tool, r in record["runs"].items()
        if r.get("other_cpu_s", 0.0) > BUSY_SHARE * r["wall_s"]
    ]
    if not noisy:
        return ""
    return (" **Other processes used the CPU during these runs** (" + "; ".join(noisy)
            + "): the machine was not idle, so these numbers are disturbed.")


def rows_detail(record: dict) -> str:
    lines = []
    for tool in TOOLS:
        r = record["runs"].get(tool)
        if r and r["tables"]:
            lines.append(f"- {tool}: " + ", ".join(f"{name} {n:,}" for name, n in r["tables"].items()))
    return "\n".join(lines)


def render(data: dict) -> str:
    m = data["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in m["packages"].items())
    sizes = sorted(data["sizes"].values(), key=lambda r: (STYLES.index(r.get("style", "smartable")), r["size"]))
    out = [
        "# Benchmark results",
        "",
        "Written by `python bench/run.py`; what is compared and the caveats are in [README.md](README.md);",
        "where the time goes, what was tried and what would take newsfm further: [PROFILE.md](PROFILE.md).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} logical cores ({m['physical_cores']} physical)",
        f"- RAM: {m['ram_gb']} GiB; {m['os']}; Python {m['python']}",
        f"- packages: {packages}",
        f"- last run: {data['date']}",
        "",
        "Tools: " + "; ".join(f"**{tool}** = {text}" for tool, text in TOOLS.items()) + ".",
        "",
        "Columns: wall-clock seconds of the whole process (start-up included), and for newsfm the part of",
        "it outside the flow (imports, Prefect's temporary server start and stop); news files per second; peak",
        "RSS of the process tree (sampled every 50 ms, summed over the process and its children), and of the",
        "largest single process of each role: the tool's own process (newsfm's flow), Prefect's server, a worker",
        "(a parse worker or the process that runs combine, then analytics), by each process's high-water mark",
        "(Linux's `VmHWM`) since 2026-12-05 19:30 UTC, by the same 50 ms samples before;",
        "user+sys CPU seconds of the tree; tables and rows found in the output Parquet (dlt's own",
        "`_dlt_*` tables left out; newsfm's warehouse and analytics layers); wall time against the",
        "faster of the two peers (naive, dlt).",
    ]
    for record in sizes:
        c = record["corpus"]
        dates = sorted({r["date"] for r in record["runs"].values()})
        commits = ", ".join(sorted({r.get("git", "unknown") for r in record["runs"].values()}))
        busy = disturbed(record)
        out += [
            "",
            f"## {record['size']:,} files (seed {record['seed']}{heading_style(record)})",
            "",
            (f"Corpus: {c['news_files']:,} news files + {c['other_files']:,} other files, {c['megabytes']} MB, made by "
             f"{c['corpus']['kind']} {made_in(c)}. Run {' to '.join(dates)} at commit {commits}.{busy}"
             + (f" Before newsfm was measured, a 1-file build in its new `PREFECT_HOME` took {record['prefect_first_run_s']:.1f} s:"
                " Prefect's one-time database creation and migrations, not counted below."
                if record.get("prefect_first_run_s") else "")
             + (f" The Prefect server newsfm-server built against started in {record['prefect_server_start_s']:.1f} s"
                " (not counted: it runs all the time, as a scheduled deployment's does)."
                if record.get("prefect_server_start_s") else "")),
            "",
            size_table(record),
            "",
            "Rows per table:",
            "",
            rows_detail(record),
        ]
    out += growth(sizes)
    if data.get("incremental"):
        out += incremental_section(data["incremental"])
    runs_sizes = " ".join(str(r["size"]) for r in sizes) or "2000"
    out += [
        "",
        "## How to reproduce",
        "",
        f"`pip install -e '.[bench]' && python bench/run.py --sizes {runs_sizes} --seed {sizes[0]['seed'] if sizes else 0}`",
        "",
        f"<!-- {DATA_MARKER} {json.dumps(data)} -->",
        "",
    ]
    return "\n".join(out)


def run_incremental(data: dict, args: argparse.Namespace) -> None:
    """The incremental lines of each size (smartable style), recorded beside the race's results."""
    from incremental import measure, table

    for size in args.sizes:
        corpus, _info = make_corpus(size, args.seed, "smartable", args.work, args.reuse_corpus, args.templates)
        result = measure(corpus, args.work / f"out-incremental-{size}", args.incremental or [1, 1000], args.commands)
        data.setdefault("incremental", {})[f"{size:,}{' (commands)' if args.commands else ''}"] = {
            **result, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "git": git_revision()}
        print(table(data["incremental"]), flush=True)
        if not args.no_results:
            RESULTS.write_text(render(data))


def incremental_section(results: dict) -> list[str]:
    from incremental import table

    runs = "; ".join(f"{size}: {result['date']} at commit {result['git']}" for size, result in results.items())
    return [
        "", "## Incremental builds", "",
        "Written by `python bench/run.py --incremental` (bench/incremental.py): a full build, then builds after "
        "changing (a title edited), adding (a copy with its own `webUrl`) and deleting files spread over the "
        "corpus; the work in the flow (Prefect's start-up aside) and its share of the full build's. "
        "Rows marked (commands): `--commands`, each build a `newsfm build` command of its own, as a scheduler "
        "runs it (its temporary API, and the walk of the input while it comes up), with its wall time. "
        f"Runs: {runs}.", "",
        table(results),
    ]


def heading_style(record: dict) -> str:
    style = record.get("style", "smartable")
    return "" if style == "smartable" else f", front matter in the {style} style"


def growth(sizes: list[dict]) -> list[str]:
    """How wall time and the largest process's peak grow from each size to the next, per tool (within a style)."""
    lines = []
    for small, large in zip(sizes, sizes[1:]):
        if small.get("style", "smartable") != large.get("style", "smartable"):
            continue
        for tool in TOOLS:
            a, b = small["runs"].get(tool), large["runs"].get(tool)
            if not (a and b and a["status"] == b["status"] == "ok" and a.get("peak_process_mb") and b.get("peak_process_mb")):
                continue
            largest_a, largest_b = max(a["peak_process_mb"].values()), max(b["peak_process_mb"].values())
            lines.append(f"- {tool}, {small['size']:,} → {large['size']:,} files (×{large['size'] / small['size']:g}): "
                         f"wall ×{b['wall_s'] / a['wall_s']:.2f}, largest process {largest_a:.0f} → {largest_b:.0f} MB "
                         f"(×{largest_b / largest_a:.2f}), tree {a['peak_rss_mb']:.0f} → {b['peak_rss_mb']:.0f} MB")
    return ["", "## Growth with corpus size", "", *lines] if lines else []


def load_previous() -> dict:
    if not RESULTS.exists():
        return {"sizes": {}}
    found = re.search(rf"<!-- {DATA_MARKER} (.*) -->", RESULTS.read_text())
    return json.loads(found[1]) if found else {"sizes": {}}


def merge(previous: dict, record: dict) -> dict:
    """A rerun of a size replaces it; tools not rerun are kept if the corpus was the same."""
    old = previous["sizes"].get(record_key(record))
    if old and old["corpus"]["corpus"] == record["corpus"]["corpus"]:
        record = {**record, "runs": {**old["runs"], **record["runs"]}}
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 100000], help="corpus sizes (news files)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "newsfm-bench",
                        help="corpora, outputs and logs go here")
    parser.add_argument("--only", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds one tool may run (default 30 min)")
    parser.add_argument("--reuse-corpus", action="store_true", help="reuse a corpus already generated in --work")
    parser.add_argument("--templates", type=Path, default=ROOT / "data" / "raw",
                        help="where the stand-in corpus is copied from when there is no generator")
    parser.add_argument("--no-results", action="store_true", help="print the tables but leave bench/RESULTS.md alone")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run every tool this many times, in rounds, and report the median run (all walls shown)")
    parser.add_argument("--style", nargs="+", default=["smartable"], choices=STYLES,
                        help="front-matter styles of the corpora (newsfm generate --style): the race is run per style")
    parser.add_argument("--incremental", type=int, nargs="*", metavar="FILES",
                        help="instead of the race: per size, a full build and builds after changing, adding and "
                             "deleting FILES files (default 1 and 1000; see bench/incremental.py)")
    parser.add_argument("--commands", action="store_true",
                        help="with --incremental: each build a `newsfm build` command of its own, as a scheduler runs it")
    args = parser.parse_args()
    args.only = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = [t for t in args.only if t not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(TOOLS)}")
    args.only = [t for t in TOOLS if t in args.only]  # newsfm before newsfm-again
    args.work = args.work.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    if not become_subreaper():
        print("note: cannot adopt orphaned processes here: a tool's processes that outlive it are not measured")

    data = load_previous()
    if args.incremental is not None:
        run_incremental(data, args)
        return
    for style, size in ((style, size) for style in args.style for size in args.sizes):
        record = run_size(size, style, args)
        print(f"\n{size:,} files (seed {args.seed}{heading_style(record)}):\n\n{size_table(record)}\n\n"
              f"{rows_detail(record)}\n", flush=True)
        data["sizes"][record_key(record)] = merge(data, record)
        data.update(machine=machine(), date=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        if not args.no_results:
            RESULTS.write_text(render(data))  # after each size, so a later failure keeps it
    if not args.no_results:
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
