"""The tail sampling policies of observability/otel-collector.yaml, as the
README promises them: every trace with an ERROR span kept, every trace slower
than the threshold kept, a percentage of the rest, decided per whole trace.

The Collector's own `validate` checks the keys; this checks the intent, which
no parser can: a policy that drops, rate-limits or inverts would make "every
error trace is kept" false without any config error."""

from __future__ import annotations

import re

import pytest

from .repo_files import COMPOSE, OBSERVABILITY, load

COLLECTOR = load(OBSERVABILITY / "otel-collector.yaml")
TAIL_SAMPLING = COLLECTOR["processors"]["tail_sampling"]
PIPELINES = COLLECTOR["service"]["pipelines"]

# policy name -> (type, the policy's own settings): a trace is kept when any of them samples it.
POLICIES = {
    "errors": ("status_code", {"status_codes": ["ERROR"]}),
    "slow": ("latency", {"threshold_ms": "${env:SAMPLING_SLOW_THRESHOLD_MS:-1000}"}),
    "baseline": ("probabilistic", {"sampling_percentage": "${env:SAMPLING_BASELINE_PERCENT:-100}"}),
}

# The documented variables and their defaults (README, "Sampling").
VARIABLES = {
    "SAMPLING_BASELINE_PERCENT": "100",
    "SAMPLING_SLOW_THRESHOLD_MS": "1000",
    "SAMPLING_DECISION_WAIT": "5s",
}

_ENV_REFERENCE = re.compile(r"\$\{env:([A-Z_]+):-([^}]*)\}")


def _defaults_in(text: str) -> dict[str, str]:
    return {name: default for name, default in _ENV_REFERENCE.findall(text) if name.startswith("SAMPLING_")}


@pytest.mark.parametrize(("name", "policy_type", "settings"),
                         [(name, *row) for name, row in POLICIES.items()], ids=list(POLICIES))
def test_policy_is_configured(name, policy_type, settings):
    policies = {policy["name"]: policy for policy in TAIL_SAMPLING["policies"]}
    assert name in policies, f"no tail_sampling policy named {name!r}: {sorted(policies)}"
    assert policies[name]["type"] == policy_type
    assert policies[name][policy_type] == settings


def test_no_other_policy_can_veto_or_thin_out_a_kept_trace():
    """Only the three policies above: a drop, not, and, rate or bytes limit
    would turn "any policy keeps it" into something weaker."""
    assert [policy["name"] for policy in TAIL_SAMPLING["policies"]] == list(POLICIES)
    assert not TAIL_SAMPLING.get("sample_on_first_match"), "evaluation order must not matter"


def test_decisions_outlive_the_traces_in_memory():
    """A span arriving after its trace was decided follows the decision."""
    cache = TAIL_SAMPLING["decision_cache"]
    assert cache["sampled_cache_size"] >= TAIL_SAMPLING["num_traces"]
    assert cache["non_sampled_cache_size"] >= TAIL_SAMPLING["num_traces"]


@pytest.mark.parametrize(("variable", "default"), VARIABLES.items())
def test_variable_default_is_the_documented_one(variable, default):
    text = (OBSERVABILITY / "otel-collector.yaml").read_text()
    assert _defaults_in(text).get(variable) == default


@pytest.mark.parametrize("sampler", ["otel-collector-sampler-1", "otel-collector-sampler-2"])
@pytest.mark.parametrize(("variable", "default"), VARIABLES.items())
def test_compose_passes_the_variable_with_the_same_default(variable, default, sampler):
    """The Collector applies its default only to an unset variable, and compose
    would set an empty one: so compose passes the default itself."""
    environment = COMPOSE["services"][sampler]["environment"]
    assert environment.get(variable) == f"${{{variable}:-{default}}}"


def test_sampling_decides_before_anything_is_exported():
    exporting = PIPELINES["traces"]
    processors = exporting["processors"]
    assert "otlp_http/trace-store" in exporting["exporters"]
    assert processors[0] == "memory_limiter"
    assert processors.index("tail_sampling") < processors.index("batch"), "batch would split traces"


def test_span_metrics_count_every_span_not_only_the_kept_ones():
    feeding = [name for name, pipeline in PIPELINES.items() if "span_metrics" in pipeline["exporters"]]
    assert feeding, "no pipeline feeds the span_metrics connector"
    for name in feeding:
        assert "tail_sampling" not in PIPELINES[name].get("processors", []), name
        assert PIPELINES[name]["receivers"] == PIPELINES["traces"]["receivers"], name
