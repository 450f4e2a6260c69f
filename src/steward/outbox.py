"""Transactional outbox: emails are queued in the same transaction as the change that causes them
and sent after commit by ``steward worker``. Several workers never send one message twice: each
message is claimed with a compare-and-set UPDATE before it is sent."""

from __future__ import annotations

import smtplib
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import Integer, String, Text, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from steward.config import Settings
from steward.db import Base, UtcDateTime, utcnow

CLAIM_SECONDS = 300
MAX_ATTEMPTS = 8


class OutboxEmail(Base):
    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


def enqueue_email(
    session: Session,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    key: str | None = None,
) -> OutboxEmail | None:
    """Queue one email. With a ``key`` the same message is queued at most once (returns None then)."""
    if key is not None and session.scalar(select(OutboxEmail.id).where(OutboxEmail.key == key)):
        return None
    message = OutboxEmail(
        key=key,
        to_address=to,
        subject=subject,
        text=text,
        html=html,
        message_id=make_msgid(domain="steward.invalid"),
        status="queued",
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()
    return message


# built once: every stage change of a dispute queues its notices through these. A key already
# queued is skipped by the database itself (ON CONFLICT DO NOTHING on the key's unique index),
# not looked up first: one round trip, and a notice queued meanwhile by a concurrent transaction
# is skipped rather than failing this one on the constraint.
_QUEUE = {
    name: dialect.insert(OutboxEmail.__table__)  # a Table: Core rows, not the ORM bulk path
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(OutboxEmail.__table__.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def enqueue_emails(session: Session, messages: Sequence[tuple[str, str, str, str]]) -> int:
    """Queue (to, subject, text, key) messages in one statement, each key at most once; returns
    how many were queued (a stage change notifies every member who may see the case)."""
    now = utcnow()
    rows, keys = [], set()
    for to, subject, text, key in messages:
        if key in keys:
            continue
        keys.add(key)
        rows.append({"key": key, "to_address": to, "subject": subject, "text": text, "html": None,
                     "message_id": make_msgid(domain="steward.invalid"), "status": "queued",
                     "created_at": now, "next_attempt_at": now})
    if not rows:
        return 0
    return len(session.execute(_QUEUE[session.get_bind().dialect.name], rows).all())


def worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


def claim_next(session: Session, me: str, now: datetime | None = None) -> OutboxEmail | None:
    """Claim one due message (compare-and-set); commit the claim before sending."""
    now = now or utcnow()
    due = or_(
        (OutboxEmail.status == "queued") & (OutboxEmail.next_attempt_at <= now),
        (OutboxEmail.status == "sending") & (OutboxEmail.claimed_until < now),
    )
    candidates = session.scalars(
        select(OutboxEmail.id).where(due).order_by(OutboxEmail.next_attempt_at).limit(5)
    ).all()
    for candidate in candidates:
        claimed = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == candidate, due)
            .values(
                status="sending",
                claimed_by=me,
                claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                attempts=OutboxEmail.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if int(getattr(claimed, "rowcount", 0)) == 1:
            session.commit()
            return session.get(OutboxEmail, candidate, populate_existing=True)
    session.commit()
    return None


def build_message(settings: Settings, row: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message.set_content(row.text)
    if row.html:
        message.add_alternative(row.html, subtype="html")
    return message


def send_one(session: Session, settings: Settings, row: OutboxEmail, me: str) -> bool:
    """Send a claimed message; record the result only if we still hold the claim."""
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(build_message(settings, row))
    except (OSError, smtplib.SMTPException) as exc:
        failed = row.attempts >= MAX_ATTEMPTS
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == row.id, OutboxEmail.claimed_by == me)
            .values(
                status="failed" if failed else "queued",
                last_error=str(exc)[:2000],
                next_attempt_at=utcnow() + timedelta(seconds=30 * 2 ** min(row.attempts, 8)),
                claimed_by=None,
                claimed_until=None,
            )
        )
        session.commit()
        return False
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.id == row.id, OutboxEmail.claimed_by == me)
        .values(status="sent", sent_at=utcnow(), claimed_until=None, last_error=None)
    )
    session.commit()
    return True
