"""Every file a service image's entrypoint needs is copied into that image
(after .dockerignore and COPY), checked without Docker: an image that builds
but cannot start (a module left out of its context) fails here, on any machine."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import pytest

from .image_contents import Stage, go_closure, node_closure, python_closure, stages
from .repo_files import REPO


def _final(context) -> Stage:
    return stages(context)[-1]


def _go_build_stage(context) -> Stage:
    text = (context / "Dockerfile").read_text()
    named = re.search(r"^FROM\s+\S+\s+AS\s+(\S+)(?:(?!^FROM).)*?go build", text, re.M | re.S | re.I)
    assert named, "no stage runs go build"
    return next(stage for stage in stages(context) if stage.name == named[1])


def needs_service_a(context) -> tuple[Stage, set[str]]:
    return _go_build_stage(context), go_closure(context)


def needs_service_b(context) -> tuple[Stage, set[str]]:
    final = _final(context)
    entries = [str(PurePosixPath(arg)) for arg in final.cmd if arg.endswith(".js")]
    assert entries, f"no .js file in CMD {final.cmd}"
    return final, node_closure(context, entries)


def needs_service_c(context) -> tuple[Stage, set[str]]:
    final = _final(context)
    config = final.cmd[final.cmd.index("-c") + 1]
    app_module = re.search(r"""^wsgi_app\s*=\s*["']([\w.]+):""", (context / config).read_text(), re.M)[1]
    entries = [config, app_module.replace(".", "/") + ".py"]
    return final, python_closure(context, entries)


NEEDS = {"service-a": needs_service_a, "service-b": needs_service_b, "service-c": needs_service_c}


@pytest.mark.parametrize("service", sorted(NEEDS))
def test_image_holds_every_file_its_entrypoint_needs(service):
    stage, needed = NEEDS[service](REPO / service)
    assert len(needed) > 2, f"found only {sorted(needed)}: the import scan is broken"
    missing = sorted(needed - stage.copied)
    assert not missing, (f"{service}/Dockerfile stage {stage.name!r} lacks {missing}: "
                         "not copied, or excluded by .dockerignore")
