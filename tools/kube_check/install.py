"""What `make kube-check` installs: the trace and log backends from Grafana's
chart sources at their release tags (no chart repository is reachable here),
then the tracing-demo chart with the images built from this repository."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from tools.native.settings import REPO

from .cluster import helm, import_image, kubectl

# Where `fetch` leaves the chart sources' git directories (owner+name/repo).
MIRRORS = Path(os.environ.get("CHART_MIRRORS", REPO.parent / ".mirror"))
CHART = REPO / "deploy" / "helm" / "tracing-demo"
BACKEND_VALUES = REPO / "deploy" / "helm" / "backends"
# The images built here are imported under this registry name, never pulled.
IMAGE_REGISTRY = "tracing-demo.local"
IMAGE_TAG = "kube-check"
SERVICES = ("service-a", "service-b", "service-c")
RELEASE = NAMESPACE = "demo"
# The install command each backend's values file opens with: the one place its chart version is written.
INSTALL_LINE = re.compile(r"helm install (?P<release>\S+) (?P<chart>\S+) --version (?P<version>\S+) (?P<rest>.*)")


@dataclass(frozen=True)
class Backend:
    release: str  # also its namespace
    mirror: str  # owner+name under MIRRORS
    tag_format: str  # the chart's release tag in that repository, from its version
    path: str  # the chart's folder at that tag
    values: str  # under deploy/helm/backends, opening with its install command
    image: str  # the image its pods run

    @property
    def version(self) -> str:
        return INSTALL_LINE.search((BACKEND_VALUES / self.values).read_text())["version"]

    @property
    def tag(self) -> str:
        return self.tag_format.format(version=self.version)

    @property
    def git_dir(self) -> Path:
        return MIRRORS / self.mirror / "repo"

    def chart(self, into: Path) -> Path:
        """The chart's folder at its release tag, extracted from the git mirror."""
        archive = subprocess.run(["git", "--git-dir", str(self.git_dir), "archive", self.tag, self.path],
                                 capture_output=True, check=True).stdout
        with tempfile.TemporaryFile() as file:
            file.write(archive)
            file.seek(0)
            with tarfile.open(fileobj=file) as tar:
                tar.extractall(into, filter="data")
        chart = into / self.path
        metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
        if metadata["version"] != self.version:
            raise ValueError(f"{self.tag}:{self.path} is chart version {metadata['version']}, not {self.version}")
        self._drop_disabled_dependencies(chart, metadata)
        return chart

    def _drop_disabled_dependencies(self, chart: Path, metadata: dict) -> None:
        """Helm wants every subchart in charts/ even when its condition is off,
        and no chart repository is reachable here to fetch them: a subchart
        these values disable is dropped from Chart.yaml; an enabled one is an error."""
        layers = [yaml.safe_load((BACKEND_VALUES / self.values).read_text()),
                  yaml.safe_load((chart / "values.yaml").read_text())]

        def enabled(condition: str) -> bool:
            for node in layers:
                for key in condition.split("."):
                    node = node.get(key) if isinstance(node, dict) else None
                if node is not None:
                    return bool(node)
            return True

        wanted = [d["name"] for d in metadata.get("dependencies", []) if "condition" not in d or enabled(d["condition"])]
        if wanted:
            raise ValueError(f"{self.path} needs subcharts {wanted}, which no reachable repository serves")
        metadata.pop("dependencies", None)
        (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata, sort_keys=False))

    def install_args(self, chart: Path) -> list[str]:
        """The values file's own install command, with the chart's folder for
        the repository's chart name (paths in it are relative to the repository)."""
        line = INSTALL_LINE.search((BACKEND_VALUES / self.values).read_text())
        return ["install", line["release"], str(chart), *shlex.split(line["rest"])]


BACKENDS = (
    Backend("tempo", "grafana+helm-charts", "tempo-{version}", "charts/tempo", "tempo.values.yaml",
            "grafana/tempo:2.9.0"),
    Backend("loki", "grafana+loki", "helm-loki-{version}", "production/helm/loki", "loki.values.yaml",
            "grafana/loki:3.5.8"),
)


def missing_sources() -> list[str]:
    return [f"{b.mirror} ({b.tag})" for b in BACKENDS
            if subprocess.run(["git", "--git-dir", str(b.git_dir), "rev-parse", "--verify", "-q", b.tag],
                              capture_output=True).returncode != 0]


def chart_images() -> list[str]:
    """Every image the charts' pods run, as the Docker engine names it."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    upstream = [f"{part['image']['repository'].removeprefix('docker.io/').removeprefix('library/')}:"
                f"{part['image']['tag']}" for part in (values["gateway"], values["collector"])]
    return upstream + [b.image for b in BACKENDS]


def build_and_import_images() -> list[str]:
    """The services' images from compose's build (the same Dockerfiles), tagged
    for the chart; the pinned upstream images as the Docker engine has them."""
    subprocess.run(["docker", "compose", "build", "--quiet", *SERVICES], cwd=REPO, check=True,
                   env={**os.environ, "DOCKER_BUILDKIT": "0"})
    images = []
    for service in SERVICES:
        tagged = f"{IMAGE_REGISTRY}/{service}:{IMAGE_TAG}"
        subprocess.run(["docker", "tag", f"tracing-demo-{service}", tagged], check=True)
        images.append(tagged)
    images += chart_images()
    for image in images:
        import_image(image)
    return images


def demo_install_args() -> list[str]:
    return ["install", RELEASE, str(CHART), "--namespace", NAMESPACE, "--create-namespace",
            "--set", f"image.registry={IMAGE_REGISTRY}", "--set", f"image.tag={IMAGE_TAG}",
            # Reached from this node: the load generator sends to loopback only.
            "--set", "gateway.service.type=NodePort"]


def install_backends(workdir: Path) -> None:
    for backend in BACKENDS:
        _helm_or_raise(*backend.install_args(backend.chart(workdir)))


def install_demo() -> None:
    _helm_or_raise(*demo_install_args())


def uninstall_all() -> None:
    for release in (RELEASE, *(b.release for b in BACKENDS)):
        helm("uninstall", release, "--namespace", release, "--wait", "--timeout", "120s")
        kubectl("delete", "namespace", release, "--ignore-not-found", "--wait=true", check=False, timeout=180)


def _helm_or_raise(*args: str) -> None:
    result = helm(*args)
    if result.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args[:2])}: exit {result.returncode}: {result.stderr.strip()[-800:]}")
