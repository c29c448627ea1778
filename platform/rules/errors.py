"""Rule failures as domain errors: a message naming the rule, never a 500."""

from __future__ import annotations

from flask_babel import gettext as _

from formflow.errors import Invalid


class RuleError(Invalid):
    """A rule could not be compiled or evaluated. `rule_id` names it when known."""

    def __init__(self, message: str, *, pointer: str = "", rule_id: str | None = None):
        self.rule_id = rule_id
        if rule_id:
            message = _("Rule “%(rule)s”: %(problem)s", rule=rule_id, problem=message)
        super().__init__([{"pointer": pointer, "message": message}])
