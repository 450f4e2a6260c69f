"""Pure account rules: password policy, login throttling, token format."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "stw_"


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding blanks."""
    return email.strip().lower()


def check_email(email: str) -> str | None:
    """Return a message if ``email`` is not a plausible address, else None."""
    if not EMAIL_RE.match(normalise_email(email)):
        return "is not a valid email address"
    return None


def check_password(password: str) -> str | None:
    """Return a message if the password is too weak, else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if password.strip() != password:
        return "must not start or end with a blank"
    return None


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def new_api_token() -> str:
    """An API token: a recognisable prefix and 256 random bits (shown once, stored hashed)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is the right storage hash (no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def throttle_key(email: str) -> str:
    """Failures are counted per normalised email, stored hashed (unknown addresses included)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta

    def locked(self, failures: list[datetime], now: datetime) -> bool:
        """Locked while ``max_failures`` or more failures fall inside the window before ``now``."""
        recent = [at for at in failures if now - at < self.window]
        return len(recent) >= self.max_failures
