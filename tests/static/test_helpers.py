"""The helpers the static checks rely on do what their docstrings promise."""

import pytest

from .key_paths import leaf_paths, matches, unlisted
from .query_names import logql_filter_labels, logql_stream_labels, promql_labels, promql_metrics


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"a": {"b": 1}}, {"a.b"}),
        ({"a": [{"b": 1}, {"c": None}]}, {"a[].b", "a[].c"}),
        ({"a": ["x", "y"]}, {"a"}),
        ({"a": {}, "b": []}, {"a", "b"}),
        ({"a": [{"b": [{"c": 1}]}]}, {"a[].b[].c"}),
    ],
)
def test_leaf_paths(document, expected):
    assert set(leaf_paths(document)) == expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("a.b", "a.b", True),
        ("a.*", "a.anything", True),
        ("a.*", "a.b.c", False),
        ("a.*", "a[]", False),
        ("a[].b", "a[].b", True),
        ("a[].b", "a.b", False),
        ("a.b", "a.bb", False),
    ],
)
def test_matches(pattern, path, expected):
    assert matches(pattern, path) is expected


def test_unlisted_reports_only_unknown_paths():
    assert unlisted(["a.b", "a.typo"], ["a.b"]) == ["a.typo"]


@pytest.mark.parametrize(
    ("expr", "metrics", "labels"),
    [
        ('sum by (service) (rate(m_total{span_kind="X"}[5m]))', {"m_total"}, {"service", "span_kind"}),
        ("increase(m_total[$__range])", {"m_total"}, set()),
        ('histogram_quantile(0.9, sum by (le, a) (rate(b_bucket{c=~"x"}[1m])))', {"b_bucket"}, {"le", "a", "c"}),
        ("sum(rate(m_total{$$__tags}[1m]))", {"m_total"}, set()),
    ],
)
def test_promql_names(expr, metrics, labels):
    assert promql_metrics(expr) == metrics
    assert promql_labels(expr) == labels


@pytest.mark.parametrize(
    ("expr", "stream", "filters"),
    [
        ('{service=~".+", level="ERROR"}', {"service", "level"}, set()),
        ('{service=~".+"} | trace_id="$${__trace.traceId}"', {"service"}, {"trace_id"}),
        ('sum by (level) (count_over_time({service=~".+"}[$__interval]))', {"service"}, set()),
    ],
)
def test_logql_names(expr, stream, filters):
    assert logql_stream_labels(expr) == stream
    assert logql_filter_labels(expr) == filters
