"""zh-CN by default, English on request; every UI string has its Chinese translation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parent.parent


def test_chinese_is_the_default(client):
    body = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in body
    assert "登录" in body and "Log in" not in body


def test_english_switch_sticks_and_returns_to_the_page(client):
    response = client.get("/lang/en?next=/auth/login")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    body = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in body and "Log in" in body and "登录" not in body.split("<main")[1]
    client.get("/lang/zh_CN")
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.get("/lang/xx")
    assert '<html lang="zh-CN">' in client.get("/auth/login").get_data(as_text=True)


def test_errors_speak_the_users_language(client):
    client.get("/lang/en")
    assert "The page you asked for does not exist." in client.get("/nowhere").get_data(as_text=True)


def test_every_message_in_the_code_is_translated_to_chinese(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "."],
        cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with (REPO / "platform/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert len(wanted) > 50
    assert sorted(map(str, wanted - translated)) == [], "run `make messages` and translate the new strings"


def test_translations_are_compiled_not_committed():
    tracked = subprocess.run(["git", "ls-files", "*.mo"], cwd=REPO, capture_output=True, text=True).stdout
    assert tracked.strip() == ""


GETTEXT_NAMES = ("_", "gettext", "ngettext", "_l", "lazy_gettext")


def test_no_translatable_text_hides_inside_an_f_string():
    """Babel's extractor cannot see gettext calls inside f-strings: such texts were never
    translated ("Add row" stayed English on Chinese pages)."""
    import ast
    from pathlib import Path

    hidden = []
    for path in sorted(Path(__file__).resolve().parent.parent.joinpath("platform").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for call in ast.walk(node):
                    name = getattr(getattr(call, "func", None), "id", None)
                    if isinstance(call, ast.Call) and name in GETTEXT_NAMES:
                        hidden.append(f"{path.name}:{call.lineno}")
    assert hidden == []


def test_lists_and_sizes_are_written_as_the_language_writes_them(app):
    from formflow.cases.uploads import size_text
    from formflow.forms.display import display
    from formflow.i18n import join_list

    schema = {
        "type": "object",
        "properties": {"kinds": {"type": "array", "items": {"enum": ["a", "b", "c"]}, "uniqueItems": True}},
    }
    names = [{"zh-CN": "甲", "en": "Alpha"}, {"zh-CN": "乙", "en": "Beta"}, {"zh-CN": "丙", "en": "Gamma"}]
    ui = {"kinds": {"ui:widget": "checkboxes", "ui:enumNames": names}}
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        assert join_list(["A", "B", "C"]) == "A, B, and C"
        assert [row.value for row in display(schema, ui, {"kinds": ["a", "c"]})] == ["Alpha and Gamma"]
        assert (size_text(17), size_text(1536)) == ("17 bytes", "1.5 KB")
    with app.test_request_context(headers={"Cookie": "lang=zh_Hans_CN"}):
        assert join_list(["甲", "乙", "丙"]) == "甲、乙和丙"
        assert size_text(17) == "17 字节"


def test_no_message_is_translated_twice():
    """Branches append to the catalogue and merge with merge=union (.gitattributes): a message
    both appended would be there twice, and the compiled catalogue would keep one at random."""
    import re
    from collections import Counter

    text = (REPO / "platform/translations/zh_Hans_CN/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    keys = Counter(
        (match.group(2) or "", match.group(3))
        for block in text.split("\n\n")
        if (match := re.search(r'^(msgctxt "(.*)"\n)?msgid "(.+)"', block, re.M))
    )
    assert [key for key, count in keys.items() if count > 1] == []
