"""Errors a person can act on. Services raise these; the app maps them to problem+json or a page."""

from __future__ import annotations


class StewardError(Exception):
    """Base class: ``status`` is the HTTP status, ``title`` a short summary."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line

    def detail(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class Invalid(StewardError):
    status = 422
    title = "Invalid input"


class NotFound(StewardError):
    status = 404
    title = "Not found"

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class Forbidden(StewardError):
    status = 403
    title = "Forbidden"


class Unauthenticated(StewardError):
    status = 401
    title = "Sign-in required"

    def __init__(self, message: str = "Sign in to continue") -> None:
        super().__init__(message)


class Conflict(StewardError):
    status = 409
    title = "Conflict"


class SavedButUnanswered(StewardError):
    """The change was committed; only the answer describing it could not be made."""

    status = 500
    title = "Saved, but no answer"


class TooManyRequests(StewardError):
    status = 429
    title = "Too many requests"
