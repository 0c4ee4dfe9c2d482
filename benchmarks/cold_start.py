"""Benchmark: a newcomer's first `make up`, cold, then the second one, warm.

Prints figures; asserts nothing. Needs only python3, git, make and what
`make up` itself needs (Go, npm, nginx):

    python3 benchmarks/cold_start.py [--ref main] [--port-offset N] [--keep]

It clones this repository (the commit --ref names, HEAD by default: what is
committed, not the working tree) into a temporary directory and points every
download and build cache into it as well (GOPATH, GOMODCACHE, GOCACHE, npm's
and pip's caches, XDG_CACHE_HOME), so the run starts from empty caches without
using or wiping this machine's warm ones. Debian's nginx, when already
installed, is used as it is (`make up` only installs it when missing), and the
Go toolchain's own settings (`go env GOENV`) are this machine's.

Then it runs the real `make up` and times it to the first 200 of the
gateway's `parallel` scenario, stops the stack as Ctrl-C does, runs `make up`
again (warm: everything built) and times that too, measures the disk each
cache and `.native/` take, and removes the directory (--keep leaves it, and
its logs, for a look). The build's own `[build] NAME: done in Ns` lines give
the time of each step. The machine (cores, load average before, during and
after) is printed with the figures, so a figure measured under load says so.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.polling import NotYet, poll_until  # noqa: E402
from tools.native.settings import read_dotenv  # noqa: E402

FIRST_RESPONSE_TIMEOUT_S = 60 * 60  # a cold build on a slow machine; it is reported, not hidden
STOP_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 5
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, no proxy
STEP_DONE = re.compile(r"^\[build\] (?P<step>[\w.-]+): done in (?P<seconds>[\d.]+)s")
ALL_READY = re.compile(r"^\[build\] all parts ready in (?P<seconds>[\d.]+)s")
# The lines worth echoing while the build runs: the runner's own, not every `go: downloading`.
ECHOED = ("[build]", "[native]", "make:")


@dataclass
class Run:
    label: str
    first_200_s: float | None = None
    steps: dict[str, float] = field(default_factory=dict)
    build_s: float | None = None
    stop_s: float | None = None
    # user + system CPU of `make up` and everything it ran (the stack's own seconds of running too):
    # much less sensitive than the wall time to what else the machine runs.
    cpu_s: float | None = None
    # CPU the rest of the machine used meanwhile, in cores (all busy CPU minus ours, over the wall time):
    # the load average counts our own compilers too, this does not.
    others_cores: float | None = None
    loads: list[float] = field(default_factory=list)
    failure: str = ""


def cache_env(root: Path) -> dict[str, str]:
    """Every cache `make up` fills, inside `root`."""
    caches = {
        "GOPATH": root / "gopath",
        "GOMODCACHE": root / "gopath" / "pkg" / "mod",
        "GOCACHE": root / "go-build",
        "npm_config_cache": root / "npm",
        "PIP_CACHE_DIR": root / "pip",
        "XDG_CACHE_HOME": root / "xdg",
    }
    for path in caches.values():
        path.mkdir(parents=True, exist_ok=True)
    return {name: str(path) for name, path in caches.items()}


def clone(ref: str, into: Path, port_offset: int) -> str:
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=REPO,
                            check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(REPO), str(into)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=into, check=True)
    if port_offset:
        # Other stacks may run on this machine: shift every port the clone's stack opens.
        dotenv = into / ".env"
        dotenv.write_text(re.sub(r"^([A-Z0-9_]+_PORT)=(\d+)$",
                                 lambda m: f"{m.group(1)}={int(m.group(2)) + port_offset}",
                                 dotenv.read_text(), flags=re.MULTILINE))
    return commit


def gateway_answers(url: str, make: subprocess.Popen) -> bool | NotYet:
    if make.poll() is not None:
        raise RuntimeError(f"`make up` exited with {make.returncode} before the gateway answered")
    try:
        with OPENER.open(url, timeout=REQUEST_TIMEOUT_S) as response:
            return response.status == 200 or NotYet(f"status {response.status}")
    except urllib.error.HTTPError as error:
        return NotYet(f"status {error.code}")
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        return NotYet(f"not answering yet ({error})")


def follow(make: subprocess.Popen, log: Path, run: Run, verbose: bool) -> threading.Thread:
    """Keep the whole output in `log`, the step times in `run`, and echo the runner's lines."""
    def read() -> None:
        with log.open("w") as out:
            for line in make.stdout:
                out.write(line)
                out.flush()
                if (done := STEP_DONE.match(line)):
                    run.steps[done["step"]] = float(done["seconds"])
                if (ready := ALL_READY.match(line)):
                    run.build_s = float(ready["seconds"])
                if verbose or line.startswith(ECHOED):
                    print(f"  {run.label} | {line}", end="", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return reader


def stop(make: subprocess.Popen) -> float:
    """Ctrl-C, as a user stops `make up`: SIGINT to its process group."""
    began = time.monotonic()
    if make.poll() is None:
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            print(f"  `make up` still running {STOP_TIMEOUT_S}s after Ctrl-C: killing its process group")
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    return time.monotonic() - began


def make_up(label: str, clone_dir: Path, env: dict[str, str], url: str, logs: Path, verbose: bool) -> Run:
    run = Run(label)
    print(f"\n== {label}: make up   (in {clone_dir}, full output in {logs / f'make-up-{label}.log'})", flush=True)
    began = time.monotonic()
    cpu_before, busy_before = children_cpu_s(), machine_busy_s()
    make = subprocess.Popen(["make", "up"], cwd=clone_dir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    reader = follow(make, logs / f"make-up-{label}.log", run, verbose)

    def answered() -> bool | NotYet:
        run.loads.append(os.getloadavg()[0])
        return gateway_answers(url, make)

    try:
        poll_until(answered, timeout=FIRST_RESPONSE_TIMEOUT_S, interval=1.0,
                   describe=f"a 200 from {url}")
        run.first_200_s = time.monotonic() - began
        print(f"  {label} | first 200 after {run.first_200_s:.1f}s", flush=True)
    except Exception as error:  # a failed run is a figure too: report it, stop what runs
        run.failure = str(error)
        print(f"  {label} | FAILED: {error}", flush=True)
    finally:
        run.stop_s = stop(make)
        reader.join(timeout=10)
        run.cpu_s = children_cpu_s() - cpu_before
        run.others_cores = (machine_busy_s() - busy_before - run.cpu_s) / (time.monotonic() - began)
    return run


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    # guest time is already counted in user
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """CPU of every descendant waited for so far: make waits for python, python for go, go for the compiler."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def disk_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True).stdout
    return int(out.split()[0]) if out else 0


def remove(path: Path) -> None:
    """rm -rf, including the Go module cache, whose files are read-only."""
    def make_writable_and_retry(function, failed, _info):
        os.chmod(Path(failed).parent, 0o755)
        if Path(failed).is_dir() and not Path(failed).is_symlink():
            os.chmod(failed, 0o755)
        function(failed)

    shutil.rmtree(path, onerror=make_writable_and_retry)


def tool_version(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "missing"


def print_report(commit: str, runs: list[Run], disk: dict[str, int], load_start: tuple, load_end: tuple,
                 started: datetime.datetime) -> None:
    print(f"\ncold and warm `make up`, commit {commit[:12]}, {started:%Y-%m-%d %H:%M} "
          f"on {platform.node()}")
    print(f"  machine: {os.cpu_count()} cores, {platform.machine()}, "
          f"{tool_version(['go', 'version'])}, the system's node {tool_version(['node', '--version'])} (runs npm), "
          f"nginx {'present' if shutil.which('nginx') or Path('/usr/sbin/nginx').exists() else 'missing'}")
    go_env = " ".join(f"{name}={tool_version(['go', 'env', name])}" for name in ("GOFLAGS", "GOPROXY", "GOTOOLCHAIN"))
    print(f"  go env (this machine's, kept): {go_env}")
    print(f"  load average (1/5/15 min): at start {'/'.join(f'{x:.2f}' for x in load_start)}, "
          f"at end {'/'.join(f'{x:.2f}' for x in load_end)}")

    print(f"\n  {'':<22}" + "".join(f"{run.label:>12}" for run in runs))

    def row(name: str, values: list[float | None], unit: str = "s") -> None:
        cells = "".join(f"{v:>11.1f}{unit}" if v is not None else f"{'-':>12}" for v in values)
        print(f"  {name:<22}{cells}")

    row("first 200 (total)", [r.first_200_s for r in runs])
    row("build", [r.build_s for r in runs])
    for step in sorted({s for r in runs for s in r.steps}, key=lambda s: -max(r.steps.get(s, 0) for r in runs)):
        row(f"  {step}", [r.steps.get(step) for r in runs])
    row("stop (Ctrl-C)", [r.stop_s for r in runs])
    row("CPU, user+system", [r.cpu_s for r in runs])
    row("others' CPU, cores", [r.others_cores for r in runs], " ")
    # The load average counts this build's own processes too (more when its steps run side by side).
    row("load avg, mean", [sum(r.loads) / len(r.loads) if r.loads else None for r in runs], " ")
    row("load avg, max", [max(r.loads) if r.loads else None for r in runs], " ")
    for run in runs:
        if run.failure:
            print(f"  {run.label} failed: {run.failure}")

    print("\n  disk after both runs")
    for name, size in disk.items():
        print(f"  {name:<30}{size / 2**30:8.2f} GiB")
    print(f"  {'total':<30}{sum(disk.values()) / 2**30:8.2f} GiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref", default="HEAD", help="the commit to clone (a branch, tag or hash)")
    parser.add_argument("--port-offset", type=int, default=0,
                        help="add this to every port in the clone's .env (another stack runs here)")
    parser.add_argument("--workdir", type=Path, default=None, help="where to make the temporary directory")
    parser.add_argument("--keep", action="store_true", help="leave the clone, its caches and logs")
    parser.add_argument("--logs", type=Path, default=None,
                        help="copy the full output of each `make up` here (make-up-cold.log, make-up-warm.log)")
    parser.add_argument("--verbose", action="store_true", help="echo every line of `make up`, not the runner's only")
    args = parser.parse_args()

    started = datetime.datetime.now()
    load_start = os.getloadavg()
    root = Path(tempfile.mkdtemp(prefix="cold-start-", dir=args.workdir))
    clone_dir, caches = root / "repo", root / "cache"
    try:
        commit = clone(args.ref, clone_dir, args.port_offset)
        env = {**os.environ, **cache_env(caches)}
        env.pop("VIRTUAL_ENV", None)
        dotenv = read_dotenv(clone_dir / ".env")
        url = f"http://127.0.0.1:{dotenv['GATEWAY_PORT']}/api/demo/parallel"
        runs = [make_up("cold", clone_dir, env, url, root, args.verbose)]
        if not runs[0].failure:
            runs.append(make_up("warm", clone_dir, env, url, root, args.verbose))
        disk = {
            "Go module cache (GOMODCACHE)": disk_bytes(caches / "gopath" / "pkg" / "mod"),
            "Go build cache (GOCACHE)": disk_bytes(caches / "go-build"),
            "npm cache": disk_bytes(caches / "npm"),
            "pip cache": disk_bytes(caches / "pip"),
            "other caches (XDG_CACHE_HOME)": disk_bytes(caches / "xdg"),
            ".native/ (binaries, Node, venv)": disk_bytes(clone_dir / ".native"),
            ".venv/ (test tooling)": disk_bytes(clone_dir / ".venv"),
            "service-b/node_modules": disk_bytes(clone_dir / "service-b" / "node_modules"),
        }
        print_report(commit, runs, disk, load_start, os.getloadavg(), started)
    finally:
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
            for log in root.glob("make-up-*.log"):
                shutil.copy2(log, args.logs / log.name)
        if args.keep:
            print(f"\nkept: {root} (the clone, its caches, make-up-*.log); `rm -rf` needs `chmod -R u+w` first")
        else:
            remove(root)


if __name__ == "__main__":
    main()
