"""The compose-mode configs agree with each other, with .env, with the log
schema and with the contract: a port, label or name changed in one place but
not in the other fails here instead of silently breaking a link in Grafana."""

from __future__ import annotations

import re

import jmespath
import pytest

from .query_names import logql_filter_labels, logql_stream_labels
from .repo_files import (
    COMPOSE,
    DATASOURCES_FILE,
    LOG_SCHEMA_FILE,
    LOKI_FILE,
    PROMETHEUS_FILE,
    PROMTAIL_FILE,
    REPO,
    TEMPO_FILE,
    dashboard_queries,
    load,
    relative,
)

SERVICES = COMPOSE["services"]
TEMPO = load(TEMPO_FILE)
LOKI = load(LOKI_FILE)
PROMTAIL_JOB = load(PROMTAIL_FILE)["scrape_configs"][0]
DATASOURCES = {source["uid"]: source for source in load(DATASOURCES_FILE)["datasources"]}
LOG_SCHEMA = load(LOG_SCHEMA_FILE)


def _stages(name):
    return [stage[name] for stage in PROMTAIL_JOB["pipeline_stages"] if name in stage]


def _stage(name):
    return _stages(name)[0]


def _extraction(field):
    """The JMESPath expression of the json stage that extracts `field`."""
    return next(stage["expressions"][field] for stage in _stages("json") if field in stage["expressions"])


PROMTAIL_LABELS = set(_stage("labels"))
STRUCTURED_METADATA = set(_stage("structured_metadata"))


def _port(endpoint: str) -> int:
    return int(endpoint.rpartition(":")[2])


SAMPLERS = ["otel-collector-sampler-1", "otel-collector-sampler-2"]


@pytest.mark.parametrize(
    ("job", "env_port", "collectors"),
    [
        ("otel-collector-spanmetrics", "COLLECTOR_PROMETHEUS_PORT", SAMPLERS),
        ("otel-collector-self", "COLLECTOR_TELEMETRY_PORT", ["otel-collector", *SAMPLERS]),
    ],
)
def test_prometheus_scrapes_the_ports_the_collectors_listen_on(job, env_port, collectors):
    """prometheus.yml cannot read .env, so in compose these internal ports are
    fixed in each Collector's environment (and never published): changing a
    port in .env cannot silently break the scrape. Span metrics come from the
    samplers (before sampling); every Collector reports its own telemetry."""
    jobs = {entry["job_name"]: entry for entry in load(PROMETHEUS_FILE)["scrape_configs"]}
    targets = jobs[job]["static_configs"][0]["targets"]
    assert targets == [f"{name}:{SERVICES[name]['environment'][env_port]}" for name in collectors]
    for name in collectors:
        port = SERVICES[name]["environment"][env_port]
        assert not any(spec.endswith(f":{port}") or f"{{{env_port}}}" in spec for spec in SERVICES[name].get("ports", []))


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_samplers_send_traces_to_tempos_otlp_http_receiver(sampler):
    endpoint = SERVICES[sampler]["environment"]["TRACE_STORE_OTLP_ENDPOINT"]
    receiver = TEMPO["distributor"]["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert endpoint == f"http://tempo:{_port(receiver)}"


@pytest.mark.parametrize(
    ("uid", "service", "listen_port"),
    [
        ("tempo", "tempo", TEMPO["server"]["http_listen_port"]),
        ("loki", "loki", LOKI["server"]["http_listen_port"]),
    ],
)
def test_grafana_reaches_each_store_on_its_listen_port(uid, service, listen_port):
    assert DATASOURCES[uid]["url"] == f"http://{service}:{listen_port}"
    assert SERVICES[service]["ports"][0].endswith(f":{listen_port}")


def test_promtail_pushes_to_lokis_listen_port():
    url = load(PROMTAIL_FILE)["clients"][0]["url"]
    assert url == f"http://loki:{LOKI['server']['http_listen_port']}/loki/api/v1/push"


JSON_LOGGING = ["gateway", "service-a", "service-b", "service-c"]


def _docker_line(service, labels):
    """A line as Docker's json-file driver writes it for `service`: the labels
    its logging options name, copied from the container's labels, in `attrs`."""
    logging = SERVICES[service].get("logging", {})
    copied = logging.get("options", {}).get("labels", "").split(",")
    attrs = {name: labels[name] for name in copied if name in labels}
    return {"log": '{"level": "INFO"}\n', "stream": "stdout", "attrs": attrs} if attrs else {"log": "x\n"}


def _kept_by_promtail(line) -> bool:
    """What Promtail's first json stage and its drop stage decide for `line`."""
    drop = _stage("drop")
    opted_in = jmespath.search(_stage("json")["expressions"][drop["source"]], line)
    return str(opted_in).lower() != drop["value"]


@pytest.mark.parametrize("service", JSON_LOGGING)
def test_json_logging_process_opts_in_to_promtail(service):
    labels = {**SERVICES[service]["labels"], "com.docker.compose.project": COMPOSE["name"],
              "com.docker.compose.service": service}
    assert labels.get("tracing-demo.log-schema") == relative(LOG_SCHEMA_FILE)
    assert SERVICES[service]["logging"]["driver"] == "json-file"
    line = _docker_line(service, labels)
    assert _kept_by_promtail(line)
    assert jmespath.search(_stage("json")["expressions"]["service"], line) == service


@pytest.mark.parametrize("service", sorted(set(SERVICES) - set(JSON_LOGGING)))
def test_promtail_drops_other_containers_lines(service):
    labels = {**SERVICES[service].get("labels", {}), "com.docker.compose.project": COMPOSE["name"],
              "com.docker.compose.service": service}
    assert not _kept_by_promtail(_docker_line(service, labels))


def test_promtail_drops_another_projects_lines():
    labels = {**SERVICES["service-a"]["labels"], "com.docker.compose.project": "another",
              "com.docker.compose.service": "service-a"}
    assert not _kept_by_promtail(_docker_line("service-a", labels))


def test_no_container_gets_the_docker_api():
    mounts = {service: [volume for volume in spec.get("volumes", []) if "docker.sock" in str(volume)]
              for service, spec in SERVICES.items()}
    assert not any(mounts.values()), mounts


def test_promtail_indexes_only_low_cardinality_labels():
    assert set(_stage("labels")) == {"level", "service"}


@pytest.mark.parametrize("field", ["trace_id", "span_id", "x_trace_id"])
def test_request_ids_are_structured_metadata_from_the_log_schema(field):
    assert field in STRUCTURED_METADATA
    assert field not in PROMTAIL_LABELS
    assert field in LOG_SCHEMA["required"]


# Log lines -> what Promtail's json stage extracts for a request id. An empty
# id must come out as null: Promtail skips null values, so the line carries no
# such structured metadata and Grafana offers no link that would lead nowhere.
EXTRACTION_CASES = {
    "set": ("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
    "empty": ("", None),
    "absent": (..., None),
}


@pytest.mark.parametrize("field", ["trace_id", "span_id", "x_trace_id"])
@pytest.mark.parametrize(("value", "extracted"), EXTRACTION_CASES.values(), ids=EXTRACTION_CASES.keys())
def test_promtail_extracts_a_request_id_only_when_set(field, value, extracted):
    line = {"level": "INFO", "x_other": "x"} | ({} if value is ... else {field: value, f"x_{field}": "other"})
    assert jmespath.search(_extraction(field), line) == extracted


def test_promtail_reads_the_log_lines_own_timestamp():
    timestamp = _stage("timestamp")
    assert timestamp["source"] == "timestamp" and "timestamp" in LOG_SCHEMA["required"]


def _logql_expressions():
    return [(relative(DATASOURCES_FILE), DATASOURCES["tempo"]["jsonData"]["tracesToLogsV2"]["query"]),
            *dashboard_queries("loki")]


@pytest.mark.parametrize(("where", "expr"), _logql_expressions())
def test_logql_selects_streams_by_labels_promtail_sets(where, expr):
    assert logql_stream_labels(expr) <= PROMTAIL_LABELS, f"{where}: {expr}"


@pytest.mark.parametrize(("where", "expr"), _logql_expressions())
def test_logql_filters_on_fields_promtail_keeps(where, expr):
    assert logql_filter_labels(expr) <= STRUCTURED_METADATA | PROMTAIL_LABELS, f"{where}: {expr}"


def _provisioned(value: str) -> str:
    """A provisioning value as Grafana reads it: `$$` is a literal `$`."""
    return value.replace("$$", "$")


@pytest.mark.parametrize("field", DATASOURCES["loki"]["jsonData"]["derivedFields"], ids=lambda f: f["name"])
def test_log_to_trace_link_matches_exactly_its_own_metadata_key(field):
    """Grafana tests matcherRegex against every label and metadata key name
    (RegExp.test, i.e. a search, not a full match) and links the first key
    that matches: `trace_id` unanchored also matches `x_trace_id`."""
    assert field["matcherType"] == "label"
    pattern = re.compile(_provisioned(field["matcherRegex"]))
    keys = STRUCTURED_METADATA | PROMTAIL_LABELS | {"service_name", "detected_level", "filename"}
    assert {key for key in keys if pattern.search(key)} == {field["name"]}


def test_x_trace_id_search_uses_the_span_attribute_the_contract_promises():
    contract = (REPO / "docs" / "contract.md").read_text()
    fields = {f["name"]: f for f in DATASOURCES["loki"]["jsonData"]["derivedFields"]}
    assert "span.app.x_trace_id" in fields["x_trace_id"]["url"]
    assert "`app.x_trace_id`" in contract


def test_tempo_service_names_map_to_the_loki_service_label():
    """OTEL_SERVICE_NAME is the compose service name, which Promtail puts in `service`."""
    tags = DATASOURCES["tempo"]["jsonData"]["tracesToLogsV2"]["tags"]
    assert {"key": "service.name", "value": "service"} in tags
    assert "service" in PROMTAIL_LABELS


def test_exemplars_link_on_the_label_tempo_writes():
    destinations = DATASOURCES["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert [d["name"] for d in destinations] == ["traceID"]
    assert TEMPO["metrics_generator"]["storage"]["remote_write"][0]["send_exemplars"] is True


def test_prometheus_accepts_what_tempo_remote_writes():
    command = SERVICES["prometheus"]["command"]
    assert "--web.enable-remote-write-receiver" in command
    assert "--enable-feature=exemplar-storage" in command
    url = TEMPO["metrics_generator"]["storage"]["remote_write"][0]["url"]
    # Compose's Prometheus unless PROMETHEUS_REMOTE_WRITE_URL says otherwise (Kubernetes),
    # which Tempo expands only when started with -config.expand-env=true.
    assert url == "${PROMETHEUS_REMOTE_WRITE_URL:-http://prometheus:9090/api/v1/write}"
    assert "-config.expand-env=true" in SERVICES["tempo"]["command"]


@pytest.mark.parametrize(
    ("service", "volume_target", "config_paths"),
    [
        (
            "tempo",
            "/var/tempo",
            [
                TEMPO["storage"]["trace"]["wal"]["path"],
                TEMPO["storage"]["trace"]["local"]["path"],
                TEMPO["metrics_generator"]["storage"]["path"],
                TEMPO["metrics_generator"]["traces_storage"]["path"],
            ],
        ),
        ("loki", "/loki", [LOKI["common"]["path_prefix"], LOKI["compactor"]["working_directory"]]),
        ("promtail", "/promtail", [load(PROMTAIL_FILE)["positions"]["filename"]]),
    ],
)
def test_state_is_written_to_the_named_volume(service, volume_target, config_paths):
    named = [volume for volume in SERVICES[service]["volumes"] if not volume.startswith(("./", "/"))]
    targets = [volume.split(":")[1] for volume in named]
    assert volume_target in targets
    assert all(path.startswith(volume_target + "/") or path == volume_target for path in config_paths)


def test_tempo_answers_the_traceql_metrics_grafana_asks_for():
    """The Tempo data source streams metrics and a dashboard runs a TraceQL
    metrics query; without local-blocks and traces_storage Tempo answers
    "localblocks processor not found"."""
    assert DATASOURCES["tempo"]["jsonData"]["streamingEnabled"]["metrics"] is True
    assert "local-blocks" in TEMPO["overrides"]["defaults"]["metrics_generator"]["processors"]
    assert TEMPO["metrics_generator"]["traces_storage"]["path"]
    metrics_queries = [query for _, query in dashboard_queries("tempo") if re.search(r"\|\s*(rate|count_over_time|quantile_over_time)\(", query)]
    assert metrics_queries, "no dashboard panel uses TraceQL metrics"
