"""The one hierarchy of domain errors; app.py turns them into pages or JSON."""

from __future__ import annotations

from flask_babel import gettext


class DomainError(Exception):
    """Something the user asked for cannot be done; `status` is the HTTP code."""

    status = 400

    def __init__(self, message: str | None = None, errors: list[dict] | None = None):
        self.message = message or self.default_message()
        self.errors = errors or [{"pointer": "", "message": self.message}]
        super().__init__(self.message)

    def default_message(self) -> str:
        return gettext("The request could not be processed.")


class Unauthorized(DomainError):
    status = 401

    def default_message(self) -> str:
        return gettext("Authentication is required.")


class Forbidden(DomainError):
    status = 403

    def default_message(self) -> str:
        return gettext("You do not have permission to do this.")


class NotFound(DomainError):
    status = 404

    def default_message(self) -> str:
        return gettext("Not found.")


class Conflict(DomainError):
    status = 409

    def default_message(self) -> str:
        return gettext("This was changed by someone else; reload and try again.")


class Invalid(DomainError):
    """Bad input: `errors` lists `{"pointer": "/json/pointer", "message": ...}`."""

    status = 422

    def __init__(self, errors: list[dict] | None = None, message: str | None = None):
        errors = errors or []
        super().__init__(message or (errors[0]["message"] if errors else None), errors or None)

    def default_message(self) -> str:
        return gettext("The data is not valid.")
