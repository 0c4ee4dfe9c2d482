"""Who may talk to whom on a cluster (issue 17 §4): the conformance endpoint
is off in every service the chart runs, and one NetworkPolicy per workload
allows exactly the connections the stack makes: the gateway from anywhere, a
service from the gateway and the other services, the routing Collector's
OTLP/HTTP from the services, the sampling Collectors' OTLP/gRPC from the
routing one, the Collectors' metrics from networkPolicy.metricsFrom; and out,
each pod only to those it calls, the trace store's port and DNS.

What is checked is what is rendered; no cluster enforces it here (the one this
project can start accepts NetworkPolicy objects but has no plugin that
enforces them: docs/kubernetes.md).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tools.native.stack import SERVICES

from .chart import (CHART, KUBE_VERSIONS, NAMESPACE, RELEASE, VALUE_SETS, ValueSet, find, manifests, name, of_kind,
                    pod_templates, run_helm, values)

each_value_set = pytest.mark.parametrize("value_set", VALUE_SETS, ids=lambda v: v.name)
ANYONE = "*"
DNS = {(ANYONE, 53, "UDP"), (ANYONE, 53, "TCP")}


def render(*settings: str) -> list[dict]:
    result = run_helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE,
                      "--kube-version", KUBE_VERSIONS[-1], *settings)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def component(workload: str) -> str:
    return workload.removeprefix(name(""))


def service_env(docs: list[dict], service: str) -> dict[str, str]:
    template = find(docs, "Deployment", name(service))["spec"]["template"]
    return {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}


# ---------------------------------------------------------------- conformance switch

@each_value_set
@pytest.mark.parametrize("service", SERVICES)
def test_conformance_endpoint_is_off_in_every_service(value_set: ValueSet, service: str) -> None:
    assert service_env(manifests(value_set), service)["CONFORMANCE_ENDPOINT"] == "off"


def test_conformance_endpoint_can_be_switched_on() -> None:
    docs = render("--set", "serviceEnvironment.CONFORMANCE_ENDPOINT=on")
    assert {s: service_env(docs, s)["CONFORMANCE_ENDPOINT"] for s in SERVICES} == dict.fromkeys(SERVICES, "on")


# ---------------------------------------------------------------- label selectors

def selects(selector: dict, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, wanted = expression["key"], expression["operator"], expression.get("values", [])
        ok = {"In": key in labels and labels[key] in wanted,
              "NotIn": key not in labels or labels[key] not in wanted,
              "Exists": key in labels,
              "DoesNotExist": key not in labels}[operator]
        if not ok:
            return False
    return True


def pod_labels(docs: list[dict]) -> dict[str, dict[str, str]]:
    """Component -> the labels of its pods."""
    return {component(workload): template["metadata"]["labels"] for workload, template in pod_templates(docs)}


def peer_names(peer: dict, pods: dict[str, dict[str, str]]) -> set[str]:
    """What one `from`/`to` entry admits: components of this release, or a description."""
    if "ipBlock" in peer:
        return {f"ip {peer['ipBlock']['cidr']}"}
    if "namespaceSelector" in peer:
        labels = peer["namespaceSelector"].get("matchLabels", {})
        return {f"namespace {labels.get('kubernetes.io/metadata.name', labels)}"}
    # A podSelector alone: pods of the policy's own namespace, this release's
    # only if it says so (another release's pods carry the same names).
    selector = peer["podSelector"]
    assert selector.get("matchLabels", {}).get("app.kubernetes.io/instance") == RELEASE, selector
    return {c for c, labels in pods.items() if selects(selector, labels)}


def allowed(docs: list[dict], policy: dict, direction: str) -> set[tuple[str, int, str]]:
    """(peer, port, protocol) the policy allows in one direction; peer ANYONE for any address."""
    pods = pod_labels(docs)
    peers_key = "from" if direction == "ingress" else "to"
    found = set()
    for rule in policy["spec"].get(direction, []):
        peers = set().union(*(peer_names(p, pods) for p in rule[peers_key])) if rule.get(peers_key) else {ANYONE}
        assert peers, f"{policy['metadata']['name']}: a {direction} rule selects no pod: {rule}"
        for port in rule["ports"]:
            found |= {(peer, port["port"], port.get("protocol", "TCP")) for peer in peers}
    return found


def policies_by_component(docs: list[dict]) -> dict[str, dict]:
    """Component -> the one NetworkPolicy that selects its pods."""
    pods = pod_labels(docs)
    by_component = {}
    for c, labels in pods.items():
        matching = [p for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]
        assert len(matching) == 1, f"{c}: selected by {[p['metadata']['name'] for p in matching]}, want one policy"
        by_component[c] = matching[0]
    return by_component


# ---------------------------------------------------------------- the intended peers and ports

def intended(value_set: ValueSet) -> dict[str, dict[str, set]]:
    """Component -> what its policy must allow, ingress and egress, exactly."""
    chart_values = values(value_set)
    ports = chart_values["ports"]
    metrics_from = {f"namespace {p['namespaceSelector']['matchLabels']['kubernetes.io/metadata.name']}"
                    for p in chart_values["networkPolicy"]["metricsFrom"]}
    store = urlsplit(chart_values["traceStore"]["otlpHttpEndpoint"])
    store_port = store.port or {"http": 80, "https": 443}[store.scheme]
    tcp = lambda peers, port: {(peer, port, "TCP") for peer in peers}  # noqa: E731 - a local shorthand
    table = {
        "gateway": {"ingress": tcp([ANYONE], ports["gateway"]),
                    "egress": set().union(*(tcp([s], ports[s]) for s in SERVICES)) | DNS},
        "collector": {"ingress": tcp(SERVICES, ports["otlpHttp"]) | tcp(metrics_from, ports["collectorMetrics"]),
                      "egress": tcp(["collector-sampling"], ports["otlpGrpc"]) | DNS},
        "collector-sampling": {
            "ingress": (tcp(["collector"], ports["otlpGrpc"]) | tcp(metrics_from, ports["collectorMetrics"])
                        | tcp(metrics_from, ports["spanMetrics"])),
            "egress": tcp([ANYONE], store_port) | DNS},
    }
    for service in SERVICES:
        others = [s for s in SERVICES if s != service]
        table[service] = {
            "ingress": tcp(["gateway", *others], ports[service]),
            "egress": set().union(*(tcp([o], ports[o]) for o in others)) | tcp(["collector"], ports["otlpHttp"]) | DNS,
        }
    return table


@each_value_set
def test_every_pod_is_isolated_by_the_policy_of_its_workload(value_set: ValueSet) -> None:
    docs = manifests(value_set)
    for c, policy in policies_by_component(docs).items():
        assert policy["metadata"]["name"] == name(c)
        assert policy["spec"]["podSelector"] == find(docs, "Deployment", name(c))["spec"]["selector"], c
        assert sorted(policy["spec"]["policyTypes"]) == ["Egress", "Ingress"], c
    assert len(of_kind(docs, "NetworkPolicy")) == len(pod_templates(docs))


@each_value_set
@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_each_policy_allows_exactly_the_intended_peers_and_ports(value_set: ValueSet, direction: str) -> None:
    docs = manifests(value_set)
    wanted = intended(value_set)
    got = {c: allowed(docs, policy, direction) for c, policy in policies_by_component(docs).items()}
    assert got == {c: table[direction] for c, table in wanted.items()}


def connections(docs: list[dict]) -> set[tuple[str, str, int]]:
    """(caller, callee component or ANYONE, pod port) of every connection the chart configures."""
    services = {s["metadata"]["name"]: s for s in of_kind(docs, "Service")}
    pods = {workload: template for workload, template in pod_templates(docs)}

    def to_service(caller: str, host: str, port: int) -> tuple[str, str, int]:
        """Through a Service of the chart: the port its target port names in the selected pods."""
        service = services[host]
        target = next(p["targetPort"] for p in service["spec"]["ports"] if p["port"] == port)
        container_ports = {p["name"]: p["containerPort"]
                           for c in pods[host]["spec"]["containers"] for p in c["ports"]}
        return caller, component(host), container_ports.get(target, target)

    found = set()
    for workload, template in pod_templates(docs):
        for variable in template["spec"]["containers"][0].get("env", []):
            value = variable.get("value") or ""
            if variable["name"].endswith("_URL") or variable["name"] == "OTEL_EXPORTER_OTLP_ENDPOINT":
                url = urlsplit(value)
                found.add(to_service(component(workload), url.hostname, url.port))
            if variable["name"] == "TRACE_STORE_OTLP_ENDPOINT":
                url = urlsplit(value)
                found.add((component(workload), ANYONE, url.port or {"http": 80, "https": 443}[url.scheme]))
            if variable["name"] == "COLLECTOR_ROUTING_RESOLVER":
                # A headless Service: the exporter connects to each pod's address at this port.
                dns = yaml.safe_load(value)["dns"]
                found.add((component(workload), "collector-sampling", int(dns["port"])))
    gateway_conf = find(docs, "ConfigMap", name("gateway"))["data"]["default.conf"]
    for host, port in re.findall(r"^\s*server\s+([a-z0-9-]+):(\d+)", gateway_conf, re.M):
        found.add(to_service("gateway", host, int(port)))
    return found


@each_value_set
def test_every_connection_the_chart_configures_is_allowed_both_ways(value_set: ValueSet) -> None:
    """The table above can only be trusted if it covers what the pods really
    do: every URL a workload is given, the gateway's upstreams, the routing
    tier's sampling pods, the trace store."""
    docs = manifests(value_set)
    policies = policies_by_component(docs)
    # Every service is given all three URLs (the contract's environment) and
    # reads only the other two's: none calls itself.
    found = {(caller, callee, port) for caller, callee, port in connections(docs) if caller != callee}
    assert {callee for _, callee, _ in found} >= {*SERVICES, "collector", "collector-sampling", ANYONE}
    for caller, callee, port in sorted(found):
        assert (callee, port, "TCP") in allowed(docs, policies[caller], "egress"), f"{caller} -> {callee}:{port}"
        if callee != ANYONE:
            assert (caller, port, "TCP") in allowed(docs, policies[callee], "ingress"), f"{caller} -> {callee}:{port}"


# ---------------------------------------------------------------- values

def test_policies_can_be_left_out() -> None:
    assert of_kind(render("--set", "networkPolicy.enabled=false"), "NetworkPolicy") == []


def test_no_metrics_peers_means_no_metrics_rule() -> None:
    docs = render("--set-json", "networkPolicy.metricsFrom=[]")
    ports = values(VALUE_SETS[0])["ports"]
    for c in ("collector", "collector-sampling"):
        opened = {port for _, port, _ in allowed(docs, find(docs, "NetworkPolicy", name(c)), "ingress")}
        assert opened.isdisjoint({ports["collectorMetrics"], ports["spanMetrics"]}), (c, opened)


def test_extra_egress_reaches_the_services_only(tmp_path) -> None:
    extra = tmp_path / "harness.yaml"
    extra.write_text(yaml.safe_dump({"networkPolicy": {"servicesExtraEgress": [
        {"to": [{"ipBlock": {"cidr": "10.1.2.3/32"}}], "ports": [{"port": 9999, "protocol": "TCP"}]}]}}))
    docs = render("-f", str(extra))
    for c, policy in policies_by_component(docs).items():
        has_it = ("ip 10.1.2.3/32", 9999, "TCP") in allowed(docs, policy, "egress")
        assert has_it == (c in SERVICES), c
