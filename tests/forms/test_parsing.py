"""`forms.parse`: posted strings to typed JSON, row commands, alternatives, branches, files."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from forms.browser_post import browser_post, field_names
from werkzeug.datastructures import FileStorage, MultiDict

from formflow import forms
from formflow.forms.parsing import MAX_ROWS

PAYMENT = {
    "type": "object",
    "required": ["amount"],
    "properties": {
        "amount": {"type": "number", "title": "Amount", "multipleOf": 0.01},
        "instalments": {"type": "integer", "title": "Instalments"},
        "note": {"type": "string", "title": "Note"},
        "confirmed": {"type": "boolean", "title": "Confirmed"},
        "channels": {"type": "array", "items": {"enum": ["sms", "email", "post"]}, "uniqueItems": True},
        "terms": {"type": "array", "items": {"type": "integer", "enum": [3, 6, 12]}},
        "paid_at": {"type": "string", "format": "date-time", "title": "Paid at"},
        "cut_off": {"type": "string", "format": "time", "title": "Cut-off"},
        "due_on": {"type": "string", "format": "date", "title": "Due on"},
        "memo": {"type": "string", "title": "Memo"},
    },
}
PAYMENT_UI = {"memo": {"ui:widget": "textarea"}, "channels": {"ui:widget": "checkboxes"}}


def parse(formdata, schema=PAYMENT, ui=PAYMENT_UI, **kwargs):
    return forms.parse(schema, ui, MultiDict(formdata), **kwargs)


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("0.1", Decimal("0.1")),
        ("  42 ", Decimal("42")),
        ("-3.00", Decimal("-3.00")),
        ("１２", Decimal("12")),  # full-width digits, as a Chinese input method may type them
        ("12abc", None),
        ("1.2.3", None),
        ("1e3", Decimal("1E+3")),
        ("12，345.67", Decimal("12345.67")),  # a full-width comma, as Chinese input methods type it
    ],
)
def test_numbers_are_decimals_never_floats(typed, expected, zh):
    parsed = parse({"/amount": typed})
    if expected is None:
        assert [e["pointer"] for e in parsed.errors] == ["/amount"]
        return
    assert parsed.errors == []
    assert isinstance(parsed.data["amount"], Decimal)
    assert parsed.data["amount"] == expected
    assert str(parsed.data["amount"]) == str(expected)  # the digits as typed, not 1234.5


def test_integers_are_ints(zh):
    parsed = parse({"/amount": "1", "/instalments": "1,200"})
    assert parsed.data["instalments"] == 1200 and type(parsed.data["instalments"]) is int


def test_a_fraction_in_an_integer_field_is_an_error(en):
    parsed = parse({"/amount": "1", "/instalments": "2.5"})
    assert parsed.errors == [{"pointer": "/instalments", "message": "Enter a whole number.", "input": "2.5"}]
    assert "instalments" not in parsed.data


def test_text_in_a_number_field_is_an_error_that_keeps_what_was_typed(en):
    parsed = parse({"/amount": "abc"})
    assert parsed.errors == [{"pointer": "/amount", "message": "Enter a number.", "input": "abc"}]
    assert "amount" not in parsed.data
    html = str(forms.render(PAYMENT, PAYMENT_UI, parsed.data, parsed.errors))
    assert 'name="/amount" value="abc"' in html
    assert 'aria-invalid="true"' in html
    assert "Enter a number." in html


# --- empty inputs, booleans, lists --------------------------------------------------------


def test_empty_inputs_are_absent(zh):
    parsed = parse({"/amount": "5", "/note": "   ", "/instalments": "", "/paid_at": "", "/memo": ""})
    assert parsed.data == {"amount": 5, "confirmed": False}


def test_a_posted_checkbox_is_true_and_a_missing_one_false(zh):
    assert parse({"/amount": "1", "/confirmed": "y"}).data["confirmed"] is True
    assert parse({"/amount": "1"}).data["confirmed"] is False


def test_checkboxes_give_a_list_of_the_options_values(zh):
    formdata = MultiDict([("/amount", "1"), ("/channels", "sms"), ("/channels", "post"), ("/terms", "12")])
    data = forms.parse(PAYMENT, PAYMENT_UI, formdata).data
    assert data["channels"] == ["sms", "post"]
    assert data["terms"] == [12] and type(data["terms"][0]) is int


def test_nothing_ticked_is_absent_when_optional_and_empty_when_required(zh):
    assert "channels" not in parse({"/amount": "1"}).data
    schema = {**PAYMENT, "required": ["amount", "channels"]}
    assert parse({"/amount": "1"}, schema=schema).data["channels"] == []


def test_an_optional_list_with_min_items_left_alone_is_valid(zh):
    schema = {
        "type": "object",
        "properties": {"channels": {"type": "array", "minItems": 1, "items": {"enum": ["sms", "email"]}}},
    }
    parsed = parse({}, schema=schema, ui={})
    assert parsed.data == {}
    assert forms.validate(schema, parsed.data) == []


def test_a_value_that_is_not_an_option_is_an_error(en):
    schema = {"type": "object", "properties": {"tier": {"type": "string", "enum": ["A", "B"]}}}
    parsed = parse({"/tier": "Z"}, schema=schema, ui={})
    assert parsed.errors == [{"pointer": "/tier", "message": "Choose one of the options.", "input": "Z"}]


def test_numeric_options_read_back_as_numbers(zh):
    schema = {"type": "object", "properties": {"rate": {"type": "number", "enum": [0, 0.06, 0.13]}}}
    html = forms.render(schema, {}, {"rate": Decimal("0.060")})  # stored data: Decimal, schema: float
    posted = browser_post(html)
    assert posted["/rate"] == "0.06"
    assert forms.parse(schema, {}, posted).data == {"rate": Decimal("0.06")}


def test_textarea_line_breaks_come_back_as_newlines(zh):
    # browsers post a textarea's line breaks as CR LF
    parsed = parse({"/amount": "1", "/memo": "line one\r\nline two\r\n"})
    assert parsed.data["memo"] == "line one\nline two\n"


# --- dates and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-01-31T09:30", "2026-01-31T09:30:00+08:00"),
        ("2026-01-31T09:30:15", "2026-01-31T09:30:15+08:00"),
        ("2026-07-01T00:00", "2026-07-01T00:00:00+08:00"),
    ],
)
def test_a_local_date_time_becomes_rfc3339_in_business_time(typed, expected, zh):
    parsed = parse({"/amount": "1", "/paid_at": typed})
    assert parsed.data["paid_at"] == expected
    assert forms.validate(PAYMENT, parsed.data) == []


def test_a_time_gets_the_business_offset(zh):
    parsed = parse({"/amount": "1", "/cut_off": "17:45"})
    assert parsed.data["cut_off"] == "17:45:00+08:00"
    assert forms.validate(PAYMENT, parsed.data) == []


def test_a_date_stays_a_date(zh):
    assert parse({"/amount": "1", "/due_on": "2026-02-28"}).data["due_on"] == "2026-02-28"


def test_an_unreadable_date_time_is_an_error(en):
    parsed = parse({"/amount": "1", "/paid_at": "next tuesday"})
    assert parsed.errors == [
        {"pointer": "/paid_at", "message": "Enter a date and time.", "input": "next tuesday"}
    ]


# --- rows -----------------------------------------------------------------------------------

PLAN = {
    "type": "object",
    "properties": {
        "plan": {
            "type": "array",
            "title": "Plan",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {"due_on": {"type": "string", "format": "date"}, "amount": {"type": "number"}},
            },
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
TWO_ROWS = {"plan": [{"due_on": "2026-05-01", "amount": 10}, {"due_on": "2026-06-01", "amount": 20}]}


def posted_plan(data=TWO_ROWS, **extra):
    posted = browser_post(forms.render(PLAN, {}, data))
    for name, value in extra.items():
        posted[name] = value
    return posted


def test_add_row_appends_an_empty_row_and_asks_for_a_re_render(zh):
    parsed = forms.parse(PLAN, {}, posted_plan(__add="/plan"))
    assert parsed.command == forms.Command("add", "/plan")
    assert parsed.data["plan"] == [*TWO_ROWS["plan"], {}]
    html = forms.render(PLAN, {}, parsed.data)
    assert {"/plan/2/due_on", "/plan/2/amount"} <= field_names(html)


def test_add_row_stops_at_max_items(zh):
    three = {"plan": [*TWO_ROWS["plan"], {"amount": 30}]}
    parsed = forms.parse(PLAN, {}, posted_plan(three, __add="/plan"))
    assert len(parsed.data["plan"]) == 3


def test_remove_row_removes_that_row(zh):
    parsed = forms.parse(PLAN, {}, posted_plan(__remove="/plan/0"))
    assert parsed.command == forms.Command("remove", "/plan/0")
    assert parsed.data["plan"] == [TWO_ROWS["plan"][1]]


def test_remove_row_keeps_min_items(zh):
    one = {"plan": [TWO_ROWS["plan"][0]]}
    parsed = forms.parse(PLAN, {}, posted_plan(one, __remove="/plan/0"))
    assert parsed.data["plan"] == one["plan"]


@pytest.mark.parametrize("bad", ["/plan/9", "/plan/x", "/plan/²", "/nowhere/0", ""])
def test_remove_row_ignores_a_row_that_is_not_there(bad, zh):
    parsed = forms.parse(PLAN, {}, posted_plan(__remove=bad))
    assert parsed.data["plan"] == TWO_ROWS["plan"]


def test_add_row_for_a_field_that_is_not_a_list_does_nothing(zh):
    parsed = forms.parse(PLAN, {}, posted_plan(__add="/plan/0/amount"))
    assert parsed.data == TWO_ROWS


def test_the_posted_row_count_decides_how_many_rows_are_read(zh):
    posted = posted_plan()
    posted["__rows:/plan"] = "1"
    assert forms.parse(PLAN, {}, posted).data["plan"] == [TWO_ROWS["plan"][0]]


def test_a_huge_posted_row_count_is_clamped(zh):
    posted = MultiDict({"__rows:/tags": "1000000000", "/tags/0": "a", "/tags/999": "z"})
    parsed = forms.parse(PLAN, {}, posted)
    assert parsed.data["tags"] == ["a"]  # row 999 lies beyond the clamp and is never read
    posted = MultiDict({"__rows:/plan": "1000000000"})
    assert len(forms.parse(PLAN, {}, posted).data["plan"]) == MAX_ROWS


@pytest.mark.parametrize("count", ["-1", "two", "²", "1.5", ""])
def test_a_row_count_that_is_not_a_number_is_ignored(count, zh):
    posted = posted_plan()
    posted["__rows:/plan"] = "1"
    posted["__rows:/tags"] = count  # a malformed count beside a good one: no crash, no effect
    parsed = forms.parse(PLAN, {}, posted)
    assert parsed.errors == []
    assert parsed.data == {"plan": [TWO_ROWS["plan"][0]]}


# --- alternatives and conditional fields -----------------------------------------------------

PAYER = {
    "type": "object",
    "required": ["payer"],
    "properties": {
        "payer": {
            "oneOf": [
                {
                    "title": "Person",
                    "type": "object",
                    "required": ["kind", "name"],
                    "properties": {"kind": {"const": "person"}, "name": {"type": "string"}},
                },
                {
                    "title": "Company",
                    "type": "object",
                    "required": ["kind", "company"],
                    "properties": {"kind": {"const": "company"}, "company": {"type": "string"}},
                },
            ]
        }
    },
}


def test_the_chosen_alternative_decides_which_fields_are_read(zh):
    posted = MultiDict({"__alt:/payer": "1", "/payer/company": "ACME", "/payer/name": "stale"})
    parsed = forms.parse(PAYER, {}, posted)
    assert parsed.data == {"payer": {"kind": "company", "company": "ACME"}}
    assert forms.validate(PAYER, parsed.data) == []
    posted["__alt:/payer"] = "0"
    assert forms.parse(PAYER, {}, posted).data == {"payer": {"kind": "person", "name": "stale"}}


def test_switching_alternative_re_renders_its_fields(zh):
    html = forms.render(PAYER, {}, {"payer": {"kind": "person", "name": "Li"}})
    assert "/payer/name" in field_names(html) and "/payer/company" not in field_names(html)
    posted = browser_post(html)
    posted["__alt:/payer"] = "1"
    parsed = forms.parse(PAYER, {}, posted)
    html = forms.render(PAYER, {}, parsed.data)
    assert "/payer/company" in field_names(html) and "/payer/name" not in field_names(html)


WAIVER = {
    "type": "object",
    "properties": {
        "waiver": {
            "anyOf": [
                {"title": "Full", "type": "object", "properties": {"full": {"const": True}}},
                {
                    "title": "Partial",
                    "type": "object",
                    "required": ["waived_amount"],
                    "properties": {"waived_amount": {"type": "number", "multipleOf": 0.01}},
                },
            ]
        }
    },
}


def test_a_pick_without_a_discriminator_sticks_through_selections(zh):
    """Switching to "Partial" posts nothing that matches it yet; the pick itself must survive."""
    posted = browser_post(forms.render(WAIVER, {}, {"waiver": {"full": True}}))
    posted["__alt:/waiver"] = "1"
    parsed = forms.parse(WAIVER, {}, posted)
    assert parsed.selections == {"/waiver": 1}
    without = field_names(forms.render(WAIVER, {}, parsed.data))
    assert "/waiver/waived_amount" not in without  # the data alone still looks like "Full"
    html = forms.render(WAIVER, {}, parsed.data, selections=parsed.selections)
    assert "/waiver/waived_amount" in field_names(html)
    posted = browser_post(html)
    posted["/waiver/waived_amount"] = "30.50"
    assert forms.parse(WAIVER, {}, posted).data == {"waiver": {"waived_amount": Decimal("30.50")}}


@pytest.mark.parametrize("choice", ["7", "-1", "x"])
def test_an_alternative_that_does_not_exist_falls_back_to_the_data(choice, zh):
    posted = MultiDict({"__alt:/payer": choice, "/payer/name": "Li"})
    assert forms.parse(PAYER, {}, posted).data == {"payer": {"kind": "person", "name": "Li"}}


REFUND = {
    "type": "object",
    "properties": {"method": {"type": "string", "enum": ["original", "bank"]}},
    "if": {"properties": {"method": {"const": "bank"}}, "required": ["method"]},
    "then": {"required": ["iban"], "properties": {"iban": {"type": "string", "title": "Account"}}},
}


def test_then_fields_exist_only_when_the_condition_holds(zh):
    assert "/iban" not in field_names(forms.render(REFUND, {}, {"method": "original"}))
    assert "/iban" in field_names(forms.render(REFUND, {}, {"method": "bank"}))


def test_then_values_are_read_when_the_branch_applies_and_dropped_when_not(zh):
    assert forms.parse(REFUND, {}, MultiDict({"/method": "bank", "/iban": "6222"})).data == {
        "method": "bank",
        "iban": "6222",
    }
    # the account was typed, then the method changed: the stale account is not kept
    assert forms.parse(REFUND, {}, MultiDict({"/method": "original", "/iban": "6222"})).data == {
        "method": "original"
    }


def test_dependent_schema_fields_follow_their_trigger(zh):
    schema = {
        "type": "object",
        "properties": {"address": {"type": "string"}},
        "dependentSchemas": {"address": {"properties": {"proof": {"type": "string"}}, "required": ["proof"]}},
    }
    assert forms.parse(schema, {}, MultiDict({"/address": "x", "/proof": "lease"})).data == {
        "address": "x",
        "proof": "lease",
    }
    assert forms.parse(schema, {}, MultiDict({"/proof": "lease"})).data == {}


# --- read-only fields -----------------------------------------------------------------------

LIMIT = {
    "type": "object",
    "properties": {
        "current": {"type": "number", "readOnly": True, "default": 100},
        "branch": {"type": "string"},
        "requested": {"type": "number"},
    },
}
LIMIT_UI = {"branch": {"ui:disabled": True}}


def test_read_only_and_disabled_fields_keep_the_stored_value_whatever_is_posted(zh):
    posted = MultiDict({"/current": "999999", "/branch": "HQ", "/requested": "500"})
    stored = {"current": Decimal("200.00"), "branch": "SH01"}
    parsed = forms.parse(LIMIT, LIMIT_UI, posted, previous=stored)
    assert parsed.data == {"current": Decimal("200.00"), "branch": "SH01", "requested": Decimal("500")}
    fresh = forms.parse(LIMIT, LIMIT_UI, posted, previous={})
    assert fresh.data == {"current": 100, "requested": Decimal("500")}


# --- files ----------------------------------------------------------------------------------

RECEIPT = {"type": "object", "properties": {"receipt": {"type": "string", "title": "Receipt"}}}
RECEIPT_UI = {
    "receipt": {"ui:widget": "file", "ui:options": {"accept": [".pdf", "image/*"], "maxSize": 1024}}
}


class Store:
    def __init__(self):
        self.calls = []

    def __call__(self, pointer, upload, options):
        self.calls.append((pointer, upload.filename, upload.read(), options))
        return "att_new"


def upload(name="r.pdf", content=b"%PDF-1.4 receipt", mimetype="application/pdf"):
    return MultiDict({"/receipt": FileStorage(io.BytesIO(content), filename=name, content_type=mimetype)})


def test_an_upload_goes_to_store_upload_with_its_options(zh):
    store = Store()
    parsed = forms.parse(RECEIPT, RECEIPT_UI, MultiDict(), upload(), store_upload=store)
    assert parsed.errors == []
    assert parsed.data == {"receipt": "att_new"}
    assert store.calls == [("/receipt", "r.pdf", b"%PDF-1.4 receipt", RECEIPT_UI["receipt"]["ui:options"])]


def test_an_image_matches_a_wildcard_type(zh):
    store = Store()
    files = upload("scan.png", b"\x89PNG", "image/png")
    assert forms.parse(RECEIPT, RECEIPT_UI, MultiDict(), files, store_upload=store).data == {
        "receipt": "att_new"
    }


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (upload(content=b"x" * 1025), "The file is too large (at most 1 KB)."),
        (
            upload("run.exe", b"MZ", "application/octet-stream"),
            "Receipt accepts only .pdf, image/*; the content of this file is application/x-msdownload.",
        ),
    ],
)
def test_a_refused_upload_is_an_error_at_its_field_and_never_stored(files, message, en):
    store = Store()
    posted = MultiDict({"/receipt": "att_old"})  # the hidden input of the file already attached
    parsed = forms.parse(RECEIPT, RECEIPT_UI, posted, files, store_upload=store)
    assert parsed.errors == [{"pointer": "/receipt", "message": message}]
    assert store.calls == []
    assert parsed.data == {"receipt": "att_old"}  # the file attached before stays
    first_try = forms.parse(RECEIPT, RECEIPT_UI, MultiDict(), files, store_upload=store)
    assert first_try.data == {} and store.calls == []  # nothing attached, nothing half-stored


def test_a_refused_upload_in_a_row_keeps_the_files_stored_beside_it(en):
    schema = {"type": "object", "properties": {"scans": {"type": "array", "items": {"type": "string"}}}}
    ui = {"scans": {"items": {"ui:widget": "file", "ui:options": {"maxSize": 4}}}}
    files = MultiDict(
        {
            "/scans/0": FileStorage(io.BytesIO(b"too large"), filename="a.pdf"),
            "/scans/1": FileStorage(io.BytesIO(b"ok"), filename="b.pdf"),
        }
    )
    store = Store()
    parsed = forms.parse(schema, ui, MultiDict({"__rows:/scans": "2"}), files, store_upload=store)
    assert [e["pointer"] for e in parsed.errors] == ["/scans/0"]
    assert [call[0] for call in store.calls] == ["/scans/1"]
    assert parsed.data == {"scans": ["att_new"]}


def test_an_attached_file_is_kept_when_no_new_file_is_chosen(zh):
    html = forms.render(RECEIPT, RECEIPT_UI, {"receipt": "att_0123456789abcdef"})
    posted = browser_post(html)
    assert posted["/receipt"] == "att_0123456789abcdef"
    store = Store()
    parsed = forms.parse(RECEIPT, RECEIPT_UI, posted, MultiDict(), store_upload=store)
    assert parsed.data == {"receipt": "att_0123456789abcdef"} and store.calls == []


def test_an_upload_where_none_can_be_stored_is_an_error(en):
    parsed = forms.parse(RECEIPT, RECEIPT_UI, MultiDict(), upload())
    assert parsed.errors == [{"pointer": "/receipt", "message": "Files cannot be uploaded here."}]
