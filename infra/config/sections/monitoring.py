"""Monitoring and alerting: alert routing, per-tier alarm thresholds, anomaly detection
and the dashboard. On in every phase: the guide measures before it scales."""

from __future__ import annotations

import re
from typing import Optional
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from infra.config.base import PresetTable, Section
from infra.config.errors import KeyedError

# Deliberately simple: catches typos (no @, no dot in the domain, spaces) without
# pretending to implement RFC 5322; SNS confirms the address anyway.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def _check_email(v: str) -> str:
    if not _EMAIL.match(v):
        raise ValueError(f"must be an email address like oncall@example.com, got {v!r}")
    return v


class Subscriptions(Section):
    """Who hears about alarms: warnings by email, critical alarms also page (HTTPS)."""

    warning_emails: list[str] = Field(default_factory=list)
    critical_emails: list[str] = Field(default_factory=list)
    paging_https_endpoints: list[str] = Field(default_factory=list, description="e.g. a PagerDuty/Opsgenie CloudWatch integration URL.")

    @field_validator("warning_emails", "critical_emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for address in v:
            _check_email(address)
        return v

    @field_validator("paging_https_endpoints")
    @classmethod
    def _https(cls, v: list[str]) -> list[str]:
        for url in v:
            parsed = urlparse(url)
            if parsed.scheme != "https" or not parsed.hostname or " " in url:
                raise ValueError(f"must be an https:// URL with a host, got {url!r}")
        return v


WINDOW_LIMIT = "CloudWatch evaluates at most 1 day, 7 days for periods >= 1 h"


def max_evaluation_periods(period_s: int) -> int:
    """CloudWatch caps an alarm's window (period x evaluation periods) at one day, or at
    seven days for periods of an hour or more; PutMetricAlarm rejects anything longer."""
    return (86400 if period_s < 3600 else 604800) // period_s


class Evaluation(Section):
    """M of N datapoints: one noisy minute must not page anybody."""

    period_s: int = Field(default=60, le=86400)
    evaluation_periods: int = Field(default=5, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=3, ge=1, le=60)

    @field_validator("period_s")
    @classmethod
    def _period(cls, v: int) -> int:
        # Every watched AWS metric is published per minute: a 10/20/30 s (high-resolution)
        # alarm on it misses most datapoints, lapses into INSUFFICIENT_DATA and costs more.
        if v < 60 or v % 60:
            raise ValueError(f"must be a multiple of 60 seconds (AWS service metrics have 1-minute resolution), got {v}")
        return v

    @model_validator(mode="after")
    def _m_of_n(self) -> Evaluation:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise KeyedError("datapoints_to_alarm", f"must be <= evaluation_periods ({self.evaluation_periods}), got {self.datapoints_to_alarm}")
        limit = max_evaluation_periods(self.period_s)
        if self.evaluation_periods > limit:
            raise KeyedError(
                "evaluation_periods",
                f"must be <= {limit} with period_s {self.period_s} ({WINDOW_LIMIT}), got {self.evaluation_periods}",
            )
        return self


class AlbThresholds(Section):
    error_rate_pct: float = Field(default=5.0, ge=0, le=100, description="(target + ELB 5xx) / requests, percent.")
    p99_latency_s: float = Field(default=1.5, gt=0, le=60)
    unhealthy_hosts: int = Field(default=0, ge=0, description="Alarm when more than this many targets are unhealthy.")
    rejected_connections: int = Field(default=0, ge=0)


class AsgThresholds(Section):
    cpu_pct: float = Field(default=80.0, ge=0, le=100)
    at_max_minutes: int = Field(default=15, ge=1, le=1440, description="In service >= max for this long: the capacity alert.")


class WorkerThresholds(Section):
    oldest_message_age_s: int = Field(default=900, gt=0, le=1209600)
    backlog_factor: float = Field(default=3.0, gt=1, le=100, description="Alarm when backlog per instance exceeds target x this.")


class DatabaseThresholds(Section):
    cpu_pct: float = Field(default=80.0, ge=0, le=100)
    freeable_memory_min_pct: float = Field(default=10.0, ge=0, le=100, description="Of the class's memory.")
    free_storage_min_pct: float = Field(default=10.0, ge=0, le=100, description="Of the allocated storage.")
    replica_lag_s: float = Field(default=30.0, gt=0)
    connections_pct: float = Field(default=80.0, ge=0, le=100, description="Of the class's default max_connections.")


class ProxyThresholds(Section):
    client_connections: int = Field(default=1000, ge=1)
    borrow_latency_ms: float = Field(default=100.0, gt=0)


class CacheThresholds(Section):
    engine_cpu_pct: float = Field(default=80.0, ge=0, le=100)
    memory_pct: float = Field(default=85.0, ge=0, le=100)
    evictions_per_period: int = Field(default=100, ge=0)
    replication_lag_s: float = Field(default=5.0, gt=0)


class CdnThresholds(Section):
    error_rate_pct: float = Field(default=5.0, ge=0, le=100)


class NatThresholds(Section):
    port_allocation_errors: int = Field(default=0, ge=0)


class Thresholds(Section):
    alb: AlbThresholds = AlbThresholds()
    asg: AsgThresholds = AsgThresholds()
    workers: WorkerThresholds = WorkerThresholds()
    database: DatabaseThresholds = DatabaseThresholds()
    proxy: ProxyThresholds = ProxyThresholds()
    cache: CacheThresholds = CacheThresholds()
    cdn: CdnThresholds = CdnThresholds()
    nat: NatThresholds = NatThresholds()


class Anomaly(Section):
    """CloudWatch anomaly detection on request count (both directions) and p99 latency (upper)."""

    enabled: bool = True
    band_width: float = Field(default=2.0, gt=0, le=10, description="Standard deviations (ANOMALY_DETECTION_BAND's second argument).")
    evaluation_periods: int = Field(default=5, ge=1, le=60)
    datapoints_to_alarm: int = Field(default=4, ge=1, le=60)

    @model_validator(mode="after")
    def _m_of_n(self) -> Anomaly:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise KeyedError("datapoints_to_alarm", f"must be <= evaluation_periods ({self.evaluation_periods}), got {self.datapoints_to_alarm}")
        return self


class Monitoring(Section):
    enabled: bool = True
    dashboard: bool = True
    subscriptions: Subscriptions = Subscriptions()
    evaluation: Evaluation = Evaluation()
    thresholds: Thresholds = Thresholds()
    anomaly: Anomaly = Anomaly()
    kms_deletion_window_days: int = Field(default=30, ge=7, le=30)
    spot_events: bool = True
    dashboard_name: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,255}$", description="Unset: <project>-<stack>.")

    @model_validator(mode="after")
    def _anomaly_window(self) -> Monitoring:
        """The anomaly alarms evaluate at the same period as the others."""
        limit = max_evaluation_periods(self.evaluation.period_s)
        if self.anomaly.enabled and self.anomaly.evaluation_periods > limit:
            raise KeyedError(
                "anomaly.evaluation_periods",
                f"must be <= {limit} with evaluation.period_s {self.evaluation.period_s} ({WINDOW_LIMIT}), got {self.anomaly.evaluation_periods}",
            )
        return self


ENV_DEFAULTS: PresetTable = {
    # A dev stack should not wake anybody up: short KMS window, wider anomaly band.
    "dev": {"kms_deletion_window_days": 7, "anomaly": {"band_width": 3.0}},
    "prod": {"anomaly": {"band_width": 2.0}},
}
# Every phase monitors fully: assessment measures the baseline before anything scales.
PHASE_DEFAULTS: PresetTable = {phase: {"enabled": True, "dashboard": True} for phase in ("assessment", "planning", "implementation", "optimization")}
