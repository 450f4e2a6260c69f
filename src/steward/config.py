"""Settings, read from the environment (prefix ``STEWARD_``) and an optional ``.env`` file."""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    """Every tunable of Steward. Values the seed leaves open ("XX days") are settings here."""

    model_config = SettingsConfigDict(env_prefix="STEWARD_", env_file=".env", extra="ignore")

    environment: str = Field("development", pattern="^(development|test|production)$")
    data_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = DEFAULT_SECRET
    base_url: str = "http://127.0.0.1:8000"

    # email (transactional outbox, sent by `steward worker`)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "steward@localhost"

    # accounts
    session_hours: int = 12
    login_max_failures: int = Field(5, ge=1)
    login_lockout_minutes: int = Field(15, ge=1)
    upload_max_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    # the largest request body read at all (forms with several files, JSON with base64 files);
    # the event file routes take STEWARD_SLA_UPLOAD_MAX_BYTES instead
    request_max_bytes: int = Field(64 * 1024 * 1024, ge=1024)

    # working days (domain.md "Working days and time") and individual disputes (R-DSP-3, R-DSP-6)
    workdays_calendar: str = "US-CA"
    workdays_timezone: str = "America/Los_Angeles"
    dispute_response_working_days: int = Field(10, ge=1)
    dispute_reminder_working_days: int = Field(3, ge=0)
    dispute_remedy_days: int = Field(30, ge=1)
    dispute_remedy_reminder_days: int = Field(7, ge=0)

    # technical changes (R-TCH-2): the RFC comment period and its abuse controls
    change_comment_days: int = Field(30, ge=1, le=365)
    change_comment_max_chars: int = Field(10_000, ge=100)
    change_comment_max_links: int = Field(10, ge=0)
    change_comment_rate_per_hour: int = Field(5, ge=1)
    change_comment_rate_per_client_hour: int = Field(20, ge=1)
    change_confirm_hours: int = Field(48, ge=1)

    # systemic failures (R-SYS-1): detection thresholds; see docs/systemic.md for the EWMA method
    systemic_dispute_count: int = Field(5, ge=1)
    systemic_dispute_window_days: int = Field(30, ge=1)
    systemic_ewma_lambda: float = Field(0.3, gt=0, le=1)
    systemic_ewma_width: float = Field(3.0, gt=0)
    systemic_period_days: int = Field(7, ge=1)
    systemic_baseline_periods: int = Field(12, ge=2)
    systemic_min_rise_count: int = Field(3, ge=1)
    systemic_consecutive_misses: int = Field(3, ge=1)
    systemic_extreme_gap_points: float = Field(20.0, gt=0, le=100)
    systemic_iap_remedy_days: int = Field(30, ge=1)
    systemic_audit_min_severity: str = Field("minor", pattern="^(observation|minor|major|critical)$")

    # consent ballot (R-ESC-1): quorum and majority per chamber, fixed when a ballot opens
    ballot_quorum_percent: int = Field(50, ge=0, le=100)
    ballot_majority_percent: int = Field(50, ge=50, le=99)
    ballot_min_open_hours: int = Field(72, ge=1)
    ballot_max_open_days: int = Field(366, ge=1)  # the furthest ahead a ballot may close
    ballot_reminder_hours: int = Field(48, ge=1)

    # requests inside the application at once, per process (the rest queue in arrival order);
    # the thread pool and the database connection pool are sized to it (docs/operations.md)
    max_concurrent_requests: int = Field(8, ge=1, le=256)
    # the public portal's pages and feeds for anonymous visitors are kept in memory this long at
    # most (0: never); a change committed by the same process shows at once (steward.middleware)
    public_cache_seconds: float = Field(2.0, ge=0, le=300)
    # SQLite: how many state-changing requests of a process may work at once (they queue for one
    # write lock, held from the endpoint's first statement to its commit in the same thread call;
    # one at a time is fastest)
    sqlite_concurrent_writers: int = Field(1, ge=1, le=32)
    # how long a thread of a server process may keep the GIL while another waits for it
    # (Python's default is 5 ms): shorter lets the event loop answer cached pages and hand out
    # admission places while pool threads run requests (docs/architecture.md)
    gil_switch_interval_ms: float = Field(1.0, gt=0, le=100)

    # worker
    worker_poll_seconds: float = Field(5.0, gt=0)

    # governance: DUG composition (R-DUG-2) and decisions; IPRT (R-IPRT-1, R-IPRT-2); audit (R-AUD-1)
    transition_date: date = date(2016, 10, 1)
    dug_voting_seats: int = Field(8, ge=1)
    dug_liaisons_min: int = Field(2, ge=0)
    dug_liaisons_max: int = Field(3, ge=0)
    dug_quorum: str = Field("1/2", pattern=r"^\d+/\d+$")
    dug_quorum_inclusive: bool = False
    dug_quorum_base: str = Field("voting_members", pattern="^(voting_members|eligible_voters)$")
    dug_majority: str = Field("1/2", pattern=r"^\d+/\d+$")
    dug_majority_inclusive: bool = False
    iprt_first_review_years: int = Field(3, ge=0)
    iprt_review_interval_years: int = Field(4, ge=1)
    iprt_customer_seats: int = Field(8, ge=1)
    audit_interval_years: int = Field(3, ge=1)
    governance_reminder_days: int = Field(60, ge=1)

    # service levels: the largest event file accepted through the API or the ingest page
    sla_upload_max_bytes: int = Field(200 * 1024 * 1024, ge=1024)

    # archive (R-DSP-9): the log's name (checkpoint origin and key name; default: host of
    # base_url + "/archive"), fixed when `steward init` creates the signing key
    archive_origin: str = ""

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'steward.db'}"
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("STEWARD_SECRET_KEY must be set to a random value in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (tests call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
