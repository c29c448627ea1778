"""`make bench`: the generated-form path against a bare JSON endpoint, in one run.

Each form iteration renders a 40-field form (a 5-row repeating group included), posts it
back as a browser would, parses, validates and stores it as a case. Each baseline
iteration posts the same data as JSON to an endpoint that only stores it. Both write to
the same SQLite database (a fresh file), through the same app. Targets: ratio >= 0.25,
form p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from flask import request
from werkzeug.datastructures import MultiDict

from formflow import forms
from formflow.app import create_app
from formflow.cases.models import Case
from formflow.customers.models import Customer
from formflow.extensions import db
from formflow.processes.models import Process, ProcessVersion

TARGET_RATIO = 0.25
TARGET_P95_MS = 50.0


def bench_schema() -> tuple[dict, dict]:
    properties: dict = {}
    for i in range(10):
        properties[f"text_{i}"] = {"type": "string", "title": f"文本 {i}", "maxLength": 200}
    for i in range(6):
        properties[f"amount_{i}"] = {"type": "number", "multipleOf": 0.01, "minimum": 0, "title": f"金额 {i}"}
    for i in range(4):
        properties[f"count_{i}"] = {"type": "integer", "minimum": 0}
    for i in range(3):
        properties[f"date_{i}"] = {"type": "string", "format": "date"}
    for i in range(3):
        properties[f"flag_{i}"] = {"type": "boolean"}
    for i in range(3):
        properties[f"kind_{i}"] = {"oneOf": [{"const": "a", "title": "甲"}, {"const": "b", "title": "乙"}]}
    properties["email"] = {"type": "string", "format": "email"}
    properties["instalments"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": 12,
        "items": {
            "type": "object",
            "required": ["due", "amount"],
            "properties": {
                "due": {"type": "string", "format": "date"},
                "amount": {"type": "number", "multipleOf": 0.01, "exclusiveMinimum": 0},
            },
        },
    }
    schema = {"type": "object", "required": ["text_0", "amount_0"], "properties": properties}
    return schema, {"text_9": {"ui:widget": "textarea"}}


def bench_data() -> dict:
    data: dict = {f"text_{i}": f"说明文字 {i}" for i in range(10)}
    data |= {f"amount_{i}": Decimal(f"{1000 + i}.25") for i in range(6)}
    data |= {f"count_{i}": i for i in range(4)}
    data |= {f"date_{i}": f"2026-0{i + 1}-15" for i in range(3)}
    data |= {f"flag_{i}": i % 2 == 0 for i in range(3)}
    data |= {f"kind_{i}": "a" for i in range(3)}
    data["email"] = "ops@example.com"
    data["instalments"] = [{"due": f"2026-0{i + 1}-01", "amount": Decimal("200.00")} for i in range(5)]
    return data


_INPUT = re.compile(r"<input\b([^>]*)>")
_SELECT = re.compile(r"<select\b([^>]*)>(.*?)</select>", re.S)
_TEXTAREA = re.compile(r"<textarea\b([^>]*)>(.*?)</textarea>", re.S)
_ATTR = re.compile(r'([\w:-]+)(?:="([^"]*)")?')


def as_posted(html: str) -> MultiDict:
    """What a browser would post for this HTML (enough of it for the benchmark)."""
    import html as markup

    posted = MultiDict()
    for match in _INPUT.finditer(html):
        attrs = dict(_ATTR.findall(match.group(1)))
        kind, name = attrs.get("type", "text"), attrs.get("name")
        if (
            not name
            or kind in ("submit", "file")
            or (kind in ("checkbox", "radio") and "checked" not in attrs)
        ):
            continue
        posted.add(name, markup.unescape(attrs.get("value", "")))
    for match in _SELECT.finditer(html):
        name = dict(_ATTR.findall(match.group(1))).get("name")
        for option in re.finditer(r"<option\b([^>]*)>", match.group(2)):
            attrs = dict(_ATTR.findall(option.group(1)))
            if "selected" in attrs:
                posted.add(name, markup.unescape(attrs.get("value", "")))
    for match in _TEXTAREA.finditer(html):
        posted.add(
            dict(_ATTR.findall(match.group(1))).get("name"), markup.unescape(match.group(2).lstrip("\n"))
        )
    return posted


def build_app(folder: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite'}",
            "SECRET_KEY": "bench",
            "INSTANCE_DIR": str(folder / "instance"),
            "WTF_CSRF_ENABLED": False,
        }
    )
    schema, ui_schema = bench_schema()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.config["MIGRATIONS_DIR"])
        process = Process(key="bench", category="other", name_zh="基准", name_en="Bench")
        db.session.add(process)
        db.session.flush()
        version = ProcessVersion(
            process_id=process.id,
            number=1,
            spec={"form": {"schema": schema}},
            sha256="0" * 64,
            status="published",
        )
        customer = Customer(code="B001", name="Bench", tier="A")
        db.session.add_all([version, customer])
        db.session.commit()
        ids = {"process_id": process.id, "version_id": version.id, "customer_id": customer.id}

    def store(data: dict) -> int:
        case = Case(**ids, state="submitted", data=data, search_text="")
        db.session.add(case)
        db.session.commit()
        return case.id

    @app.get("/bench/form")
    def bench_form_page():
        return str(forms.render(schema, ui_schema, bench_data()))

    @app.post("/bench/form")
    def bench_form_post():
        parsed = forms.parse(schema, ui_schema, request.form, request.files)
        errors = parsed.errors or forms.validate(schema, parsed.data)
        if errors:
            return {"errors": errors}, 422
        return {"id": store(parsed.data)}, 201

    @app.post("/bench/bare")
    def bench_bare():
        return {"id": store(request.get_json())}, 201

    return app


def timed(calls: int, one) -> list[float]:
    durations = []
    for _ in range(calls):
        start = time.perf_counter()
        one()
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def p95(durations: list[float]) -> float:
    return statistics.quantiles(durations, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="iterations of each side (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        client = app.test_client()
        payload = app.json.dumps(bench_data())
        posted = as_posted(client.get("/bench/form").get_data(as_text=True))
        check = client.post("/bench/form", data=posted)
        if check.status_code != 201:
            print("the form did not round-trip:", check.get_data(as_text=True), file=sys.stderr)
            return 2

        def form_iteration():
            html = client.get("/bench/form").get_data(as_text=True)
            response = client.post("/bench/form", data=as_posted(html))
            assert response.status_code == 201, response.get_data(as_text=True)

        def bare_iteration():
            response = client.post("/bench/bare", data=payload, content_type="application/json")
            assert response.status_code == 201

        timed(20, form_iteration), timed(20, bare_iteration)  # warm caches and the database file
        form_ms = timed(args.n, form_iteration)
        bare_ms = timed(args.n, bare_iteration)
    form_rate, bare_rate = 1000 / statistics.mean(form_ms), 1000 / statistics.mean(bare_ms)
    ratio, form_p95 = form_rate / bare_rate, p95(form_ms)
    print(f"iterations          {args.n} each, SQLite, one process")
    print(f"bare JSON endpoint  {bare_rate:8.1f} req/s   p95 {p95(bare_ms):6.2f} ms")
    print(f"generated form      {form_rate:8.1f} it/s    p95 {form_p95:6.2f} ms")
    print("                    (one iteration: render + browser post + parse + validate + store)")
    print(f"ratio               {ratio:8.3f}   (target >= {TARGET_RATIO})")
    ok = ratio >= TARGET_RATIO and form_p95 <= TARGET_P95_MS
    print("RESULT", "OK" if ok else f"MISSED (target ratio >= {TARGET_RATIO}, p95 <= {TARGET_P95_MS} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
