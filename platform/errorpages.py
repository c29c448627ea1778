"""One place that turns errors into a page (UI) or `{"errors": [...]}` (API)."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from formflow.errors import DomainError, Unauthorized
from formflow.extensions import db

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def _messages_for(status: int) -> str:
    return {
        400: _("The request could not be understood."),
        401: _("Authentication is required."),
        403: _("You do not have permission to do this."),
        404: _("The page you asked for does not exist."),
        405: _("This address does not accept that kind of request."),
        409: _("This was changed by someone else; reload and try again."),
        413: _("The upload is larger than allowed."),
        422: _("The data is not valid."),
        500: _("Something went wrong on our side. It has been logged."),
        503: _("The database is busy. Try again in a moment."),
    }.get(status, _("The request could not be processed."))


def _respond(status: int, errors: list[dict], headers: dict | None = None):
    if wants_json():
        response = jsonify({"errors": errors})
        response.status_code = status
    else:
        page = render_template("errors/error.html", status=status, errors=errors)
        response = make_response(page, status)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if isinstance(error, Unauthorized):
            if wants_json():
                return _respond(401, error.errors, {"WWW-Authenticate": 'Bearer realm="formflow"'})
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return _respond(error.status, error.errors)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        db.session.rollback()
        message = _("The form has expired or lacks its security token. Reload the page and try again.")
        return _respond(400, [{"pointer": "", "message": message}])

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        message = _messages_for(status)
        if status == 400 and wants_json():
            message = _("The request body is not valid JSON.") if request.is_json else message
        headers = {}
        if status == 405 and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return _respond(status, [{"pointer": "", "message": message}], headers)

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        # SQLite's write lock still taken after the busy timeout: a wait, not a fault
        if "database is locked" not in str(error.orig):
            return unexpected_error(error)
        db.session.rollback()
        log.warning("Database busy on %s %s", request.method, request.path)
        return _respond(503, [{"pointer": "", "message": _messages_for(503)}], {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _respond(500, [{"pointer": "", "message": _messages_for(500)}])
