"""A place in a spec in words, for messages such as "still used by the rule “…”": a rule by its
title, a workflow step by its title, a test by its name, else the form."""

from __future__ import annotations

from flask_babel import gettext as _

from formflow.forms.texts import localized
from formflow.processes.titles import state_title


def place_of(spec: dict, pointer: str) -> str:
    """The element at `pointer` in words: a rule by its title, a state, a test, the form."""
    parts = pointer.strip("/").split("/")
    if parts[0] == "rules" and len(parts) > 1 and parts[1].isdigit():
        rules = spec.get("rules") or []
        rule = rules[int(parts[1])] if int(parts[1]) < len(rules) else {}
        name = localized(rule.get("title")) or rule.get("id") or parts[1]
        return _("the rule “%(name)s”", name=name)
    if parts[:2] == ["workflow", "states"] and len(parts) > 2:
        return _("the workflow step “%(name)s”", name=state_title(spec, parts[2].replace("~1", "/")))
    if parts[0] == "tests" and len(parts) > 1 and parts[1].isdigit():
        tests = spec.get("tests") or []
        test = tests[int(parts[1])] if int(parts[1]) < len(tests) else {}
        name = localized(test.get("title")) or test.get("name") or parts[1]
        return _("the test “%(name)s”", name=name)
    return _("the form")
