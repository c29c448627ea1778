"""Numbers no person means (issue: a 30-byte body with 1e999999999 held a worker for over 11
minutes in multipleOf): every numeric keyword answers at once, the case service refuses them
before any arithmetic, an amount has a ceiling, and a stored huge amount never breaks a page."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from support import finishes

from formflow.auth import services as auth
from formflow.cases import services as cases
from formflow.cases.models import Case
from formflow.demo import load_demo
from formflow.errors import Invalid
from formflow.extensions import db
from formflow.forms import validate
from formflow.forms.validation import is_multiple

HUGE = Decimal("1E+999999999")


@pytest.mark.parametrize(
    "keyword, bound, valid",
    [
        ("multipleOf", Decimal("0.01"), True),
        ("minimum", 0, True),
        ("maximum", 100, False),
        ("exclusiveMinimum", 0, True),
        ("exclusiveMaximum", 100, False),
    ],
)
def test_every_numeric_keyword_answers_a_huge_number_at_once(app_ctx, keyword, bound, valid):
    outcome = []
    assert finishes(lambda: outcome.append(validate({"type": "number", keyword: bound}, HUGE)))
    assert (outcome[0] == []) is valid
    negative = Decimal("-1E+999999999")
    assert finishes(lambda: validate({"type": "number", "multipleOf": Decimal("0.01")}, negative))
    assert finishes(lambda: validate({"multipleOf": Decimal("0.01")}, Decimal("1E-999999999")))


@pytest.mark.parametrize(
    "value, divisor, expected",
    [("0.29", "0.01", True), ("0.295", "0.01", False), ("7.5", "2.5", True), ("1E+400", "3", False),
     ("3E+400", "3", True), ("0", "0.7", True), ("1E-400", "0.01", False)],
)  # fmt: skip
def test_multiple_of_is_exact(value, divisor, expected):
    assert is_multiple(Decimal(value), Decimal(divisor)) is expected


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo(echo=lambda _line: None)
        db.session.commit()


def _headers(app) -> dict:
    with app.app_context():
        token, _record = auth.create_token(auth.find_user("staff"), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.mark.live_db  # two requests at once need connections of their own, not the test's one
def test_a_huge_amount_is_refused_at_once_while_another_request_is_served(live_app):
    app = live_app
    with app.app_context():
        load_demo(echo=lambda _line: None)
        db.session.commit()
    headers = _headers(app)
    body = '{"process":"deduction","customer":"C001","data":{"amount":1e999999999}}'
    answers = {}

    def post():
        answers["post"] = app.test_client().post("/api/v1/cases", data=body, headers=headers)

    def health():
        answers["health"] = app.test_client().get("/healthz")

    threads = [threading.Thread(target=post, daemon=True), threading.Thread(target=health, daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    assert set(answers) == {"post", "health"}
    assert answers["health"].status_code == 200
    refused = answers["post"]
    assert refused.status_code == 422
    assert refused.json["errors"][0]["pointer"] == "/data/amount"


def test_an_amount_has_a_ceiling(app, demo):
    body = '{"process":"deduction","customer":"C001","data":{"amount":1000000000000000}}'
    refused = app.test_client().post("/api/v1/cases", data=body, headers=_headers(app))
    assert refused.status_code == 422
    assert refused.json["errors"][0]["pointer"] == "/data/amount"
    assert "1,000,000,000,000,000" in refused.json["errors"][0]["message"]


def test_a_stored_huge_amount_never_breaks_the_case_page(app, demo, login_as):
    with app.app_context():
        case = cases.start(
            "deduction", "C001", {"reason": "quality"}, submit=False, actor=auth.find_user("admin")
        )
        case.data = {**case.data, "amount": Decimal("1E+28")}  # as an older version could have stored it
        db.session.commit()
        case_id = case.id
    page = login_as("admin").get(f"/cases/{case_id}")
    assert page.status_code == 200


def test_a_list_longer_than_any_form_means_is_refused(app, demo):
    body = (
        '{"process":"deduction","customer":"C001","data":{"reason":"quality","notes":['
        + ",".join(["1"] * 5001)
        + "]}}"
    )
    refused = app.test_client().post("/api/v1/cases", data=body, headers=_headers(app))
    assert refused.status_code == 422
    assert refused.json["errors"][0]["pointer"] == "/data/notes"


BEYOND_FLOAT = ["1e309", "-1e309", "1e400", "1E+309", "Infinity", "-Infinity", "NaN", "inf"]


@pytest.mark.parametrize("typed", BEYOND_FLOAT)
def test_an_amount_beyond_any_float_is_refused_on_the_form(app, demo, login_as, typed):
    staff = login_as("staff")
    staff.raw.set_cookie("lang", "en")
    fields = {"/reason": "quality", "/amount": typed, "case_action": "draft"}
    refused = staff.post_form("/cases/new?process=deduction&customer=C001", fields)
    assert refused.status_code == 422
    assert 'id="ff-amount-error"' in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == 0


@pytest.mark.parametrize("literal", ["1e309", "-1e309", "1e400", '"Infinity"', '"1e309"', "Infinity", "NaN"])
def test_an_amount_beyond_any_float_is_refused_by_the_api_on_create_and_in_action_data(app, demo, literal):
    headers, client = _headers(app), app.test_client()
    body = '{"process":"deduction","customer":"C001","data":{"reason":"quality","amount":' + literal + "}}"
    created = client.post("/api/v1/cases", data=body, headers=headers)
    assert created.status_code in (400, 422)  # 400: not JSON at all (a bare Infinity or NaN)
    if created.status_code == 422:
        assert created.json["errors"][0]["pointer"] == "/data/amount"
    draft = client.post(
        "/api/v1/cases",
        json={"process": "deduction", "customer": "C001", "data": {"reason": "quality"}},
        headers=headers,
    )
    number = draft.json["id"]
    action = client.post(
        f"/api/v1/cases/{number}/actions/submit", data='{"data":{"amount":' + literal + "}}", headers=headers
    )
    assert action.status_code in (400, 422)
    if action.status_code == 422:
        assert action.json["errors"][0]["pointer"] == "/data/amount"
    with app.app_context():
        stored = [case.data for case in db.session.execute(sa.select(Case)).scalars()]
        assert stored == [{"reason": "quality"}]


def test_an_amount_beyond_any_float_is_refused_when_a_draft_is_saved(app, demo):
    with app.app_context():
        admin = auth.find_user("admin")
        case = cases.start("deduction", "C001", {"reason": "quality"}, submit=False, actor=admin)
        for amount in (
            Decimal("1E+309"),
            Decimal("-1E+309"),
            Decimal("Infinity"),
            Decimal("NaN"),
            float("inf"),
        ):
            with pytest.raises(Invalid) as refused:
                cases.save(case, {"reason": "quality", "amount": amount}, submit=False, actor=admin)
            assert refused.value.errors[0]["pointer"] == "/data/amount"
        assert case.data == {"reason": "quality"}


def test_a_computed_amount_has_the_ceiling_of_a_typed_one(app):
    from cases.cases_support import new_customer, spec

    from formflow.processes import services as processes

    schema = {"type": "object", "properties": {"units": {"type": "number"}, "total": {"type": "number"}}}
    total = {
        "id": "total",
        "kind": "compute",
        "field": "/total",
        "value": {"*": [{"var": "data.units"}, 1e12]},
    }
    with app.app_context():
        processes.import_spec(spec("t_total", schema, {"total": {"ui:widget": "money"}}) | {"rules": [total]})
        processes.publish("t_total")
        new_customer("C100")
        staff = auth.create_user("units", "correct-horse-9", ["staff"])
        assert (
            cases.start("t_total", "C100", {"units": 999}, submit=False, actor=staff).data["total"] < 10**15
        )
        with pytest.raises(Invalid) as refused:
            cases.start("t_total", "C100", {"units": 1000}, submit=False, actor=staff)
        assert refused.value.errors[0]["pointer"] == "/data/total"
