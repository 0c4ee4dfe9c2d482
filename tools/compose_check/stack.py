"""The compose stack as `make compose-check` and the chaos suite drive it:
docker compose commands, container facts (limits, peaks, restarts), and
requests made from inside the stack's network for ports it does not publish."""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tools.native.settings import REPO

PROJECT = "tracing-demo"
COMPOSE_FILES = ("docker-compose.yml", "docker-compose.direct-ports.yml")
# The one image this machine may lack (it cannot be built without a registry).
GRAFANA = "grafana"
# Requests from inside the network go through this image's wget.
PROBE_IMAGE = "busybox:1.37.0"


def docker(*args: str, check: bool = True, timeout: float | None = 120) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout).stdout


def image_present(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


@dataclass
class Compose:
    """One compose project, with the override files compose-check adds."""

    files: tuple[str, ...] = COMPOSE_FILES
    extra_files: list[Path] = field(default_factory=list)
    profiles: tuple[str, ...] = ()

    def command(self, *args: str) -> list[str]:
        parts = [part for name in (*self.files, *map(str, self.extra_files)) for part in ("-f", name)]
        parts += [part for profile in self.profiles for part in ("--profile", profile)]
        return ["docker", "compose", *parts, *args]

    def run(self, *args: str, check: bool = True, timeout: float | None = 600) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), cwd=REPO, capture_output=True, text=True, check=check,
                              timeout=timeout)

    def config(self) -> dict:
        return json.loads(self.run("config", "--format", "json").stdout)

    def with_override(self, override: dict) -> "Compose":
        """The same stack with one more override file (kept for the life of the process)."""
        path = Path(tempfile.mkstemp(prefix="compose-check-", suffix=".yml")[1])
        path.write_text(yaml.safe_dump(override))
        return Compose(self.files, [*self.extra_files, path], self.profiles)

    def without(self, absent: set[str]) -> "Compose":
        """The same stack less some services (an image this machine lacks):
        the readiness probe stops waiting for them."""
        ready = self.config()["services"]["ready"]["environment"]
        urls = [url for url in ready["READY_URLS"].split() if not any(f"//{name}:" in url for name in absent)]
        return self.with_override({"services": {"ready": {"environment": {"READY_URLS": " ".join(urls)}}}})

    def with_service_environment(self, environment: dict[str, dict[str, str]]) -> "Compose":
        return self.with_override({"services": {name: {"environment": env} for name, env in environment.items()}})

    def services(self) -> list[str]:
        return self.run("config", "--services").stdout.split()

    def containers(self) -> dict[str, str]:
        """Container name -> id, of every running container of the project."""
        lines = self.run("ps", "--format", "{{.Name}} {{.ID}}").stdout.splitlines()
        return dict(line.split() for line in lines if line.strip())

    def container_ids(self, service: str) -> list[str]:
        return self.run("ps", "-a", "-q", service).stdout.split()

    def network(self) -> str:
        return f"{PROJECT}_default"


# ------------------------------------------------------------- container facts

@dataclass(frozen=True)
class ContainerState:
    name: str
    restarts: int
    oom_killed: bool
    limit_bytes: int
    peak_bytes: int | None  # None: this machine's cgroups do not record it


def container_state(container_id: str) -> ContainerState:
    info = json.loads(docker("inspect", container_id))[0]
    return ContainerState(
        name=info["Name"].lstrip("/"),
        restarts=info["RestartCount"],
        oom_killed=info["State"]["OOMKilled"],
        limit_bytes=info["HostConfig"]["Memory"],
        peak_bytes=memory_peak(info["Id"]),
    )


# cgroup v1 (cgroupfs driver) and v2 (systemd or cgroupfs) keep the peak in different files.
_PEAK_FILES = (
    "/sys/fs/cgroup/memory/docker/{id}/memory.max_usage_in_bytes",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.peak",
    "/sys/fs/cgroup/docker/{id}/memory.peak",
)


def memory_peak(full_id: str) -> int | None:
    """The kernel's high-water mark of the container's memory since it started
    (what the limit is enforced on: page cache included)."""
    for pattern in _PEAK_FILES:
        path = Path(pattern.format(id=full_id))
        if path.exists():
            return int(path.read_text().split()[0])
    return None


class MemoryWatch:
    """Every second, each running container's memory high-water mark, kept per
    container name: a container the chaos suite stops and starts again gets a
    new cgroup (its mark starts over), so the peak of the whole run is sampled."""

    def __init__(self, compose: Compose, interval: float = 1.0) -> None:
        self.peaks: dict[str, int] = {}
        self._compose, self._interval = compose, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                running = self._compose.containers()
                full_ids = docker("inspect", "--format", "{{.Id}}", *running.values()).split() if running else []
            except subprocess.SubprocessError:
                continue  # a container went away between the two calls
            for name, full_id in zip(running, full_ids):
                peak = memory_peak(full_id)
                if peak is not None:
                    self.peaks[name] = max(peak, self.peaks.get(name, 0))

    def close(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.peaks


class EventLog:
    """`docker events` for the project from now on, in a thread: every OOM kill
    (a container's RestartCount misses one that compose itself recreated)."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._process = subprocess.Popen(
            ["docker", "events", "--format", "{{json .}}", "--filter", f"label=com.docker.compose.project={PROJECT}",
             "--filter", "type=container", "--filter", "event=oom"],
            stdout=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self._process.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                continue

    def close(self) -> list[str]:
        """The OOM kills seen, each as `<container> oom`."""
        self._process.terminate()
        self._process.wait(timeout=10)
        self._reader.join(timeout=10)
        return [f"{e.get('Actor', {}).get('Attributes', {}).get('name', '?')} oom" for e in self.events]


class LogFiles:
    """The gateway's and the services' container logs followed into files laid
    out as the native runner writes them (gateway.log, gateway-error.log for
    nginx's stderr, service-*.log), so the e2e suite's log checks run on compose."""

    def __init__(self, compose: Compose, folder: Path, names: tuple[str, ...]) -> None:
        self.folder = folder
        self._followers = []
        for name in names:
            [container] = compose.container_ids(name)
            out = open(folder / f"{name}.log", "wb")
            err = open(folder / f"{name}-error.log", "wb") if name == "gateway" else out
            self._followers.append((subprocess.Popen(["docker", "logs", "-f", container], stdout=out, stderr=err),
                                    out, err))

    def close(self) -> None:
        for process, out, err in self._followers:
            process.terminate()
            process.wait(timeout=10)
            out.close()
            err.close()


# --------------------------------------------------------- inside the network

def fetch_inside(network: str, url: str, timeout_s: int = 5) -> str:
    """GET a URL that only the stack's network reaches (an unpublished port),
    from a throw-away container on that network."""
    return docker("run", "--rm", "--network", network, PROBE_IMAGE, "wget", "-q", "-T", str(timeout_s), "-O", "-",
                  url, timeout=timeout_s + 30)
