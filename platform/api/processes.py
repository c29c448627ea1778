"""API endpoints for processes (registered on the api blueprint)."""

from __future__ import annotations

from flask import g, jsonify, request

from formflow.api.body import counter_field, json_object
from formflow.api.views import bp
from formflow.auth.permissions import require
from formflow.extensions import db
from formflow.processes import services


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


@bp.route("/processes")
def processes():
    """Published processes, e.g. for a "start a case" picker."""
    require(g.api_user, "api.use")
    return jsonify(
        {
            "processes": [
                {
                    "key": process.key,
                    "category": process.category,
                    "name": published.spec["name"],
                    "version": published.number,
                }
                for process, published in services.published_processes()
            ]
        }
    )


@bp.route("/processes/<key>")
def process(key: str):
    require(g.api_user, "processes.read")
    found = services.get_process(key)
    versions = [
        {
            "number": row.version.number,
            "status": row.version.status,
            "sha256": row.version.sha256,
            "created_at": _iso(row.version.created_at),
            "published_at": _iso(row.version.published_at),
        }
        for row in services.history(key)
    ]
    published = next((v["number"] for v in versions if v["status"] == "published"), None)
    return jsonify(
        {
            "key": found.key,
            "category": found.category,
            "name": {"zh-CN": found.name_zh, "en": found.name_en},
            "published": published,
            "versions": versions,
        }
    )


@bp.route("/processes", methods=["POST"])
def process_import():
    """Import a spec: 201 when a process or version was created, 200 when a draft was
    updated or nothing changed; 422 with pointers (nothing stored) when the spec is bad."""
    require(g.api_user, "processes.manage")
    result = services.import_spec(json_object(), actor=g.api_user)
    db.session.commit()
    body = {
        "key": result.process.key,
        "version": result.version.number,
        "status": result.version.status,
        "created": result.action in ("create", "new_version"),
        "changed": result.changed,
        "changes": result.changes,
    }
    return jsonify(body), 201 if body["created"] else 200


@bp.route("/processes/<key>/publish", methods=["POST"])
def process_publish(key: str):
    """Publish the latest draft, or `{"version": N}`; the body may be empty."""
    require(g.api_user, "processes.manage")
    body = json_object() if request.get_data() else {}
    number = counter_field(body, "version")
    published = services.publish(key, actor=g.api_user, number=number)
    db.session.commit()
    return jsonify({"key": key, "version": published.number, "status": published.status})
