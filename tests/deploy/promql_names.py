"""Which metrics and labels a PromQL expression refers to (enough of PromQL for our queries:
selectors, functions, aggregations with by/without, vector matching, ranges)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
RANGE = re.compile(r"\[[^\]]*\]")
NUMBER = re.compile(r"(?<![a-zA-Z0-9_:])\d+(?:\.\d+)?(?:e[+-]?\d+)?")
IDENTIFIER = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
# what Grafana replaces before a query reaches Prometheus
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$service": ".+"}


@dataclass
class References:
    metrics: dict[str, set[str]] = field(default_factory=dict)  # name -> labels matched on
    grouping: set[str] = field(default_factory=set)  # labels named by by/without/on/...

    def add(self, name: str, labels: set[str]) -> None:
        self.metrics.setdefault(name, set()).update(labels)


def grafana_to_promql(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def references(expr: str) -> References:
    found = References()
    expr = GROUPING.sub(lambda m: _group(found, m.group(1)), grafana_to_promql(expr))
    expr = SELECTOR.sub(lambda m: _selector(found, m.group(1), m.group(2)), expr)
    expr = NUMBER.sub(" ", RANGE.sub(" ", expr))
    for name, call in IDENTIFIER.findall(expr):
        if not call and name not in KEYWORDS:
            found.add(name, set())
    return found


def _group(found: References, labels: str) -> str:
    found.grouping.update(label.strip() for label in labels.split(",") if label.strip())
    return " "


def _selector(found: References, name: str | None, matchers: str) -> str:
    labels = set(MATCHER.findall(re.sub(r'"(?:[^"\\]|\\.)*"', '""', matchers)))
    if name:
        found.add(name, labels)
    return " "
