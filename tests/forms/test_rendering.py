"""`forms.render`: the HTML each widget writes, accessibility, languages, locking, defaults,
rows, and escaping of every text a spec author writes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from forms.browser_post import browser_post, field_names
from forms.forms_support import FORM_TAGS, element, elements, tags_in

from formflow import forms

ACCOUNT = {
    "type": "object",
    "required": ["holder", "tier"],
    "properties": {
        "holder": {"type": "string", "title": "Holder"},
        "tier": {"type": "string", "title": "Tier", "enum": ["A", "B", "C"]},
        "plan": {
            "type": "string",
            "title": "Plan",
            "oneOf": [{"const": "m", "title": "Monthly"}, {"const": "y", "title": "Yearly"}],
        },
        "services": {"type": "array", "title": "Services", "items": {"enum": ["sms", "email", "post"]}},
        "autopay": {"type": "boolean", "title": "Autopay"},
        "limit": {"type": "number", "title": "Limit", "minimum": 0, "maximum": 5000, "multipleOf": 0.01},
        "alert": {"type": "integer", "title": "Alert %", "minimum": 50, "maximum": 100},
        "note": {"type": "string", "title": "Note"},
        "opened": {"type": "string", "title": "Opened"},
        "pin": {"type": "string", "title": "PIN"},
        "ref": {"type": "string", "title": "Reference"},
        "contract": {"type": "string", "title": "Contract"},
        "called_at": {"type": "string", "format": "date-time", "title": "Called at"},
        "cut_off": {"type": "string", "format": "time", "title": "Cut-off"},
        "email": {"type": "string", "format": "email", "title": "E-mail"},
        "site": {"type": "string", "format": "uri", "title": "Website"},
        "born": {"type": "string", "format": "date", "title": "Born"},
    },
}
ACCOUNT_UI = {
    "holder": {"ui:widget": "text", "ui:placeholder": "Full name"},
    "tier": {"ui:widget": "select"},
    "plan": {"ui:widget": "radio", "ui:options": {"inline": True}},
    "services": {"ui:widget": "checkboxes"},
    "autopay": {"ui:widget": "checkbox"},
    "limit": {"ui:widget": "updown"},
    "alert": {"ui:widget": "range"},
    "note": {"ui:widget": "textarea", "ui:options": {"rows": 7}},
    "opened": {"ui:widget": "date"},
    "pin": {"ui:widget": "password"},
    "ref": {"ui:widget": "hidden"},
    "contract": {"ui:widget": "file", "ui:options": {"accept": [".pdf", "image/*"], "maxSize": 1048576}},
}
ACCOUNT_DATA = {
    "holder": "Li Lei",
    "tier": "B",
    "plan": "y",
    "services": ["sms", "post"],
    "autopay": True,
    "limit": 1234.5,
    "alert": 80,
    "note": "VIP",
    "opened": "2026-01-02",
    "pin": "1234",
    "ref": "R-9",
    "contract": "att_abc",
    "called_at": "2026-04-01T09:30:00+08:00",
    "cut_off": "17:00:00+08:00",
    "email": "li@example.com",
    "site": "https://example.com",
    "born": "1990-05-06",
}


@pytest.fixture
def account_html(en):
    return str(forms.render(ACCOUNT, ACCOUNT_UI, ACCOUNT_DATA))


# --- widgets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pointer", "input_type", "value"),
    [
        ("/holder", "text", "Li Lei"),
        ("/opened", "date", "2026-01-02"),
        ("/pin", "password", "1234"),
        ("/ref", "hidden", "R-9"),
        ("/limit", "number", "1234.5"),
        ("/alert", "range", "80"),
        ("/called_at", "datetime-local", "2026-04-01T09:30"),
        ("/cut_off", "time", "17:00"),
        ("/email", "email", "li@example.com"),
        ("/site", "url", "https://example.com"),
        ("/born", "date", "1990-05-06"),
    ],
)
def test_input_widgets(pointer, input_type, value, account_html):
    control = element(account_html, "input", name=pointer, type=input_type)
    assert control["value"] == value


def test_number_inputs_carry_their_limits(account_html):
    limit = element(account_html, "input", name="/limit")
    assert (limit["step"], limit["min"], limit["max"], limit["inputmode"]) == ("0.01", "0", "5000", "decimal")
    alert = element(account_html, "input", name="/alert")
    assert (alert["step"], alert["min"], alert["max"], alert["inputmode"]) == ("1", "50", "100", "numeric")


def test_textarea_with_rows(account_html):
    area = element(account_html, "textarea", name="/note")
    assert area["rows"] == "7"
    assert re.search(r'<textarea[^>]*name="/note"[^>]*>\s*VIP</textarea>', account_html)


def test_select(account_html):
    element(account_html, "select", name="/tier")
    options = re.search(r'<select[^>]*name="/tier".*?</select>', account_html).group(0)
    assert [o["value"] for o in elements(options, "option")] == ["A", "B", "C"]  # required: no blank
    assert [o["value"] for o in elements(options, "option") if "selected" in o] == ["B"]


def test_an_optional_select_offers_a_blank_choice(en):
    schema = {"type": "object", "properties": {"tier": {"type": "string", "enum": ["A", "B"]}}}
    html = str(forms.render(schema, {}, {}))
    assert [o["value"] for o in elements(html, "option")] == ["", "A", "B"]


def test_radio_buttons_with_option_titles(account_html):
    radios = elements(account_html, "input", name="/plan", type="radio")
    assert [(r["value"], "checked" in r) for r in radios] == [("m", False), ("y", True)]
    assert re.search(r'<label for="ff-plan-1"><input[^>]*> Yearly</label>', account_html)
    assert "ff-inline" in element(account_html, "fieldset", id="ff-plan-field")["class"]


def test_checkbox(account_html):
    box = element(account_html, "input", name="/autopay", type="checkbox")
    assert box["value"] == "y" and "checked" in box


def test_checkboxes(account_html):
    boxes = elements(account_html, "input", name="/services", type="checkbox")
    assert [(b["value"], "checked" in b) for b in boxes] == [("sms", True), ("email", False), ("post", True)]


def test_file_with_accept_and_the_attached_token(account_html):
    upload = element(account_html, "input", name="/contract", type="file")
    assert upload["accept"] == ".pdf,image/*"
    assert element(account_html, "input", name="/contract", type="hidden")["value"] == "att_abc"


def test_a_widget_that_does_not_fit_the_type_falls_back_to_the_default(en):
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "s": {"type": "string"}}}
    html = str(forms.render(schema, {"n": {"ui:widget": "textarea"}, "s": {"ui:widget": "radio"}}, {}))
    element(html, "input", name="/n", type="number")
    element(html, "input", name="/s", type="text")


def test_a_boolean_as_radio_buttons_offers_yes_and_no(en):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}}
    html = str(forms.render(schema, {"ok": {"ui:widget": "radio"}}, {"ok": False}))
    radios = elements(html, "input", name="/ok", type="radio")
    assert [(r["value"], "checked" in r) for r in radios] == [("true", False), ("false", True)]
    assert forms.parse(schema, {"ok": {"ui:widget": "radio"}}, browser_post(html)).data == {"ok": False}


# --- order, help, errors, required ------------------------------------------------------------


def test_ui_order_with_a_star_for_the_rest(en):
    schema = {"type": "object", "properties": {name: {"type": "string"} for name in "abcde"}}
    html = forms.render(schema, {"ui:order": ["d", "*", "a"]}, {})
    names = [e["name"] for e in elements(html, "input") if e["name"].startswith("/")]
    assert names == ["/d", "/b", "/c", "/e", "/a"]


def test_ui_order_without_a_star_puts_the_rest_last(en):
    schema = {"type": "object", "properties": {name: {"type": "string"} for name in "abc"}}
    names = [e["name"] for e in elements(forms.render(schema, {"ui:order": ["c"]}, {}), "input")]
    assert [n for n in names if n.startswith("/")] == ["/c", "/a", "/b"]


def test_help_and_description_are_linked_by_aria_describedby(en):
    schema = {
        "type": "object",
        "properties": {"iban": {"type": "string", "description": "The payee's account"}},
    }
    html = str(forms.render(schema, {"iban": {"ui:help": "Digits only"}}, {}))
    control = element(html, "input", name="/iban")
    assert control["aria-describedby"] == "ff-iban-help"
    help_text = re.search(r'<small class="ff-help" id="ff-iban-help">(.*?)</small>', html).group(1)
    assert "Digits only" in help_text and "account" in help_text


def test_an_error_sits_next_to_its_field_and_in_the_summary(en):
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "number", "title": "Amount", "minimum": 1}},
    }
    errors = forms.validate(schema, {"amount": 0})
    html = str(forms.render(schema, {"amount": {"ui:help": "CNY"}}, {"amount": 0}, errors))
    control = element(html, "input", name="/amount")
    assert control["aria-invalid"] == "true"
    assert control["aria-describedby"] == "ff-amount-help ff-amount-error"
    assert re.search(r'id="ff-amount-error" role="alert">Must be at least 1\.</small>', html)
    summary = re.search(r'<div class="ff-summary".*?</div>', html).group(0)
    assert '<a href="#ff-amount">Amount: Must be at least 1.</a>' in summary
    assert "1 problem to fix:" in summary


def test_a_missing_field_error_is_shown_at_that_field(en):
    schema = {
        "type": "object",
        "required": ["holder"],
        "properties": {"holder": {"type": "string", "title": "Holder"}},
    }
    html = str(forms.render(schema, {}, {}, forms.validate(schema, {})))
    assert element(html, "input", name="/holder")["aria-invalid"] == "true"
    assert 'id="ff-holder-error"' in html


def test_errors_on_radio_and_checkbox_groups_mark_the_group_invalid(en):
    schema = {"type": "object", "properties": {"plan": {"enum": ["m", "y"]}}}
    errors = [{"pointer": "/plan", "message": "Pick one."}]
    html = str(forms.render(schema, {"plan": {"ui:widget": "radio"}}, {}, errors))
    assert element(html, "fieldset", id="ff-plan-field")["aria-invalid"] == "true"
    assert all(r["aria-invalid"] == "true" for r in elements(html, "input", name="/plan"))


def test_required_fields_are_marked(account_html):
    assert re.search(
        r'<label for="ff-holder">Holder<span class="ff-required" aria-hidden="true">\*</span>', account_html
    )
    assert element(account_html, "input", name="/holder")["aria-required"] == "true"
    assert not re.search(r'<label for="ff-note">Note<span class="ff-required"', account_html)
    assert "aria-required" not in element(account_html, "textarea", name="/note")


# --- languages ----------------------------------------------------------------------------------

BILINGUAL = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "title": "amount"},
        "kind": {"enum": ["a", "b"]},
    },
}
BILINGUAL_UI = {
    "amount": {
        "ui:title": {"zh-CN": "扣款金额", "en": "Deduction amount"},
        "ui:help": {"zh-CN": "单位：元", "en": "In CNY"},
        "ui:placeholder": {"zh-CN": "请输入", "en": "Type here"},
    },
    "kind": {
        "ui:widget": "radio",
        "ui:enumNames": [{"zh-CN": "甲", "en": "First"}, {"zh-CN": "乙", "en": "Second"}],
    },
}


def test_texts_in_chinese_by_default(zh):
    html = str(forms.render(BILINGUAL, BILINGUAL_UI, {}))
    assert '<label for="ff-amount">扣款金额</label>' in html
    assert "单位：元" in html and 'placeholder="请输入"' in html and "> 甲</label>" in html
    assert "Deduction amount" not in html


def test_texts_in_english_on_request(en):
    html = str(forms.render(BILINGUAL, BILINGUAL_UI, {}))
    assert '<label for="ff-amount">Deduction amount</label>' in html
    assert "In CNY" in html and 'placeholder="Type here"' in html and "> First</label>" in html
    assert "扣款金额" not in html


def test_a_plain_string_title_is_used_in_both_languages(app):
    ui = {"amount": {"ui:title": "金额 Amount"}}
    for headers in ({}, {"Cookie": "lang=en"}):
        with app.test_request_context(headers=headers):
            assert '<label for="ff-amount">金额 Amount</label>' in str(forms.render(BILINGUAL, ui, {}))


# --- read-only, disabled, const ------------------------------------------------------------------

LOCKED = {
    "type": "object",
    "properties": {
        "current": {"type": "number", "title": "Current", "readOnly": True},
        "holder": {"type": "string", "title": "Holder"},
        "branch": {"type": "string", "enum": ["SH", "BJ"]},
        "basis": {"type": "string"},
        "currency": {"const": "CNY", "title": "Currency"},
        "vip": {"type": "boolean"},
    },
}
LOCKED_UI = {
    "holder": {"ui:readonly": True},
    "branch": {"ui:disabled": True},
    "basis": {"ui:disabled": True},
    "vip": {"ui:disabled": True},
}
LOCKED_DATA = {
    "current": 100,
    "holder": "Li",
    "branch": "BJ",
    "basis": "court",
    "currency": "CNY",
    "vip": True,
}


def test_read_only_text_inputs_are_readonly(en):
    html = str(forms.render(LOCKED, LOCKED_UI, LOCKED_DATA))
    assert "readonly" in element(html, "input", name="/current")
    assert "readonly" in element(html, "input", name="/holder")
    basis = element(html, "input", name="/basis")
    assert "readonly" in basis and basis["aria-disabled"] == "true"


def test_disabled_choices_are_disabled_and_still_post_their_value(en):
    html = str(forms.render(LOCKED, LOCKED_UI, LOCKED_DATA))
    assert "disabled" in element(html, "select", name="/branch")
    assert element(html, "input", name="/branch", type="hidden")["value"] == "BJ"
    assert "disabled" in element(html, "input", name="/vip", type="checkbox")
    posted = browser_post(html)
    assert forms.parse(LOCKED, LOCKED_UI, posted).data == LOCKED_DATA


def test_const_is_shown_read_only_with_its_value_even_on_a_new_form(en):
    html = str(forms.render(LOCKED, LOCKED_UI))
    currency = element(html, "input", name="/currency")
    assert currency["value"] == "CNY" and "readonly" in currency


# --- defaults and rows on a new form ------------------------------------------------------------

NEW = {
    "type": "object",
    "properties": {
        "fee_type": {"type": "string", "enum": ["late", "annual"], "default": "annual"},
        "alert": {"type": "integer", "default": 80},
        "autopay": {"type": "boolean", "default": True},
        "plan": {
            "type": "array",
            "minItems": 2,
            "maxItems": 3,
            "items": {"type": "object", "properties": {"amount": {"type": "number", "default": 100}}},
        },
        "tags": {"type": "array", "items": {"type": "string"}, "default": ["vip", "new"]},
    },
}


def test_defaults_fill_a_new_form(en):
    html = str(forms.render(NEW, {}))
    assert element(html, "option", value="annual").get("selected") is not None
    assert element(html, "input", name="/alert")["value"] == "80"
    assert "checked" in element(html, "input", name="/autopay")
    assert [element(html, "input", name=f"/tags/{i}")["value"] for i in range(2)] == ["vip", "new"]


def test_min_items_rows_on_a_new_form_with_item_defaults(en):
    html = str(forms.render(NEW, {}))
    assert {"/plan/0/amount", "/plan/1/amount"} <= field_names(html)
    assert "/plan/2/amount" not in field_names(html)
    assert element(html, "input", name="/plan/0/amount")["value"] == "100"


def test_defaults_do_not_fill_a_form_with_data(en):
    html = str(forms.render(NEW, {}, {}))
    assert element(html, "input", name="/alert")["value"] == ""
    assert "checked" not in element(html, "input", name="/autopay")
    assert "/plan/0/amount" not in field_names(html)


def test_add_row_until_max_items_and_remove_down_to_min_items(en):
    two = {"plan": [{"amount": 1}, {"amount": 2}]}
    html = str(forms.render(NEW, {}, two))
    element(html, "button", name="__add", value="/plan")
    assert elements(html, "button", name="__remove") == []  # at minItems
    three = {"plan": [{"amount": 1}, {"amount": 2}, {"amount": 3}]}
    html = str(forms.render(NEW, {}, three))
    assert elements(html, "button", name="__add", value="/plan") == []  # at maxItems
    assert [b["value"] for b in elements(html, "button", name="__remove")] == [
        "/plan/0",
        "/plan/1",
        "/plan/2",
    ]


def test_every_button_is_a_formnovalidate_submit(account_html):
    for button in elements(account_html, "button"):
        assert button["type"] == "submit" and "formnovalidate" in button


# --- escaping -----------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
HOSTILE = {
    "type": "object",
    "title": SCRIPT,
    "description": SCRIPT,
    "required": ["kind"],
    "properties": {
        "kind": {"type": "string", "title": SCRIPT, "enum": ["a", SCRIPT]},
        "plan": {"type": "string", "oneOf": [{"const": "m", "title": SCRIPT}, {"const": "y", "title": "Y"}]},
        "note": {"type": "string", "title": SCRIPT, "description": SCRIPT, "pattern": "^<b>$"},
        "ok": {"type": "boolean", "title": SCRIPT},
        "tags": {"type": "array", "title": SCRIPT, "items": {"enum": ["x", SCRIPT]}},
        "rows": {
            "type": "array",
            "title": SCRIPT,
            "items": {"type": "object", "title": SCRIPT, "properties": {"v": {"type": "string"}}},
        },
        "who": {
            "title": SCRIPT,
            "oneOf": [
                {
                    "title": SCRIPT,
                    "type": "object",
                    "properties": {"name": {"type": "string", "title": SCRIPT}},
                },
                {"title": "Company", "type": "object", "properties": {"company": {"type": "string"}}},
            ],
        },
        SCRIPT: {"type": "string"},
    },
}
HOSTILE_UI = {
    "kind": {"ui:widget": "radio", "ui:enumNames": ["A", SCRIPT], "ui:help": SCRIPT},
    "note": {"ui:placeholder": SCRIPT, "ui:help": {"zh-CN": SCRIPT, "en": SCRIPT}, "ui:title": SCRIPT},
    "tags": {"ui:widget": "checkboxes"},
}
HOSTILE_DATA = {
    "kind": SCRIPT,
    "plan": "m",
    "note": SCRIPT,
    "ok": True,
    "tags": [SCRIPT],
    "rows": [{"v": SCRIPT}],
    "who": {"name": SCRIPT},
    SCRIPT: SCRIPT,
}


def assert_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert tags_in(html) <= FORM_TAGS


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_spec_texts_and_values_are_escaped_in_the_form(lang, request):
    request.getfixturevalue(lang)
    errors = [
        *forms.validate(HOSTILE, HOSTILE_DATA),
        {"pointer": "/note", "message": SCRIPT, "input": SCRIPT},
    ]
    assert errors
    html = str(forms.render(HOSTILE, HOSTILE_UI, HOSTILE_DATA, errors))
    assert_escaped(html)
    assert "&lt;b&gt;" in html  # the pattern quoted in the error message
    # and the escaped values still post back as they were
    parsed = forms.parse(HOSTILE, HOSTILE_UI, browser_post(forms.render(HOSTILE, HOSTILE_UI, HOSTILE_DATA)))
    assert parsed.data == HOSTILE_DATA


def test_spec_texts_and_values_are_escaped_in_the_read_only_view(en):
    html = str(forms.render(HOSTILE, HOSTILE_UI, HOSTILE_DATA, readonly=True))
    assert_escaped(html)
    rows = forms.display(HOSTILE, HOSTILE_UI, HOSTILE_DATA)
    assert any(row.value == SCRIPT for row in rows)  # display gives text; the template escapes it


# --- schemas in other shapes --------------------------------------------------------------------


def test_an_enum_of_objects_is_one_choice_of_whole_values(en):
    branches = [{"code": "SH01", "city": "上海"}, {"code": "BJ02", "city": "北京"}]
    schema = {"type": "object", "properties": {"branch": {"title": "Branch", "enum": branches}}}
    html = str(forms.render(schema, {}, {"branch": branches[1]}))
    select = re.search(r'<select[^>]*name="/branch".*?</select>', html).group(0)
    assert len([o for o in elements(select, "option") if "selected" in o]) == 1
    assert forms.parse(schema, {}, browser_post(html)).data == {"branch": branches[1]}


def test_a_compound_schema_resolves_refs_against_its_own_id(en):
    schema = {
        "$id": "https://example.com/forms/limit",
        "type": "object",
        "$defs": {
            "https://example.com/mixins/money": {"$id": "https://example.com/mixins/money", "type": "number"},
            "limit": {"$ref": "/mixins/money", "title": "Limit"},
        },
        "properties": {"limit": {"$ref": "#/$defs/limit"}},
    }
    assert forms.check_schema(schema) == []
    html = str(forms.render(schema, {}, {"limit": 5}))
    assert element(html, "input", name="/limit", type="number")["value"] == "5"


def test_money_is_shown_with_two_places_and_grouping_but_never_rounded(zh):
    schema = {
        "type": "object",
        "properties": {
            "fee": {"type": "number", "multipleOf": 0.01},
            "deposit": {"type": "number", "multipleOf": 0.01},
            "rate": {"type": "number"},
        },
    }
    rows = forms.display(schema, {}, {"fee": 600, "deposit": Decimal("1234567.5"), "rate": Decimal("0.125")})
    assert [(row.pointer, row.value) for row in rows] == [
        ("/fee", "600.00"),
        ("/deposit", "1,234,567.50"),
        ("/rate", "0.125"),
    ]
