"""Uploading a file through the API: `POST /api/v1/attachments` (multipart, field `file`)
gives a token that a case's file field then takes as its value, as the form's upload does."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from formflow.api.views import bp
from formflow.auth.permissions import require
from formflow.cases import services as cases
from formflow.errors import Invalid
from formflow.extensions import db


@bp.route("/attachments", methods=["POST"])
def attachment_create():
    require(g.api_user, "cases.create")  # who may start cases may upload their evidence
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid([{"pointer": "/file", "message": _("Send the file as the multipart field “file”.")}])
    attachment = cases.upload_for_api(
        upload,
        g.api_user,
        process=request.form.get("process") or None,
        field=request.form.get("field") or None,
    )
    db.session.commit()
    body = {
        "token": attachment.token,
        "filename": attachment.filename,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "content_type": attachment.content_type,
    }
    return jsonify(body), 201
