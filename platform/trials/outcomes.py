"""What a what-if replay finds (formflow.trials.whatif): each version's verdict on one case,
the change between two verdicts, and the summary of a replay in words."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from formflow.processes.models import ProcessVersion
from formflow.processes.rule_explanations import explained, explained_results, with_texts
from formflow.processes.titles import state_title
from formflow.records.models import Case


@dataclass
class Verdict:
    """One version's outcome for one case."""

    errors: dict[str, str] = field(default_factory=dict)  # pointer -> message
    missing: set[str] = field(default_factory=set)  # required and empty
    computed: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, Any] = field(default_factory=dict)  # workflow state -> approvals required
    #: what explains it: (spec, data after the rules, context, outcome, tables, today)
    run: tuple | None = field(default=None, repr=False)
    _why: dict | None = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return not self.errors

    def why(self, pointer: str) -> list[dict]:
        """The explanations of the rule results at `pointer` (processes.rule_explanations)."""
        if self.run is None:
            return []
        if self._why is None:
            spec, data, context, outcome, tables, today = self.run
            self._why = {}
            for entry in explained_results(spec, data, context, outcome, tables, today):
                self._why.setdefault(entry["pointer"], []).append(with_texts(entry["explain"]))
        return self._why.get(pointer, [])

    def why_approvals(self, state: str) -> dict | None:
        """Why the workflow state would require its number of approvals (a rule's trace)."""
        if self.run is None:
            return None
        spec, data, context, _outcome, tables, today = self.run
        required = approvals_rule(spec, state)
        if not isinstance(required, dict | list):
            return None
        return explained(required, {**context, "data": data}, tables, today)


@dataclass
class CaseChange:
    """A past case whose outcome the candidate changes."""

    case: Case
    before: Verdict
    after: Verdict

    @property
    def became_invalid(self) -> bool:
        return self.before.valid and not self.after.valid

    @property
    def became_valid(self) -> bool:
        return not self.before.valid and self.after.valid

    @property
    def new_errors(self) -> list[tuple[str, str]]:
        return sorted(
            (pointer, message)
            for pointer, message in self.after.errors.items()
            if self.before.errors.get(pointer) != message
        )

    @property
    def resolved_errors(self) -> list[tuple[str, str]]:
        return sorted(
            (pointer, message)
            for pointer, message in self.before.errors.items()
            if self.after.errors.get(pointer) != message
        )

    @property
    def newly_missing(self) -> list[str]:
        return sorted(self.after.missing - self.before.missing)

    @property
    def computed_changes(self) -> list[tuple[str, Any, Any]]:
        pointers = sorted(set(self.before.computed) | set(self.after.computed))
        return [
            (pointer, self.before.computed.get(pointer), self.after.computed.get(pointer))
            for pointer in pointers
            if not _same(self.before.computed.get(pointer), self.after.computed.get(pointer))
        ]

    def state_title(self, state: str) -> str:
        """A state of the case's workflow as people read it (its title)."""
        return state_title(self.case.version, state)

    @property
    def approval_changes(self) -> list[tuple[str, Any, Any]]:
        states = sorted(set(self.before.approvals) | set(self.after.approvals))
        return [
            (state, self.before.approvals.get(state), self.after.approvals.get(state))
            for state in states
            if not _same(self.before.approvals.get(state), self.after.approvals.get(state))
        ]

    @property
    def changed(self) -> bool:
        return bool(
            self.new_errors
            or self.resolved_errors
            or self.newly_missing
            or self.computed_changes
            or self.approval_changes
        )


@dataclass
class WhatIf:
    process_key: str
    baseline: ProcessVersion | None  # the published version compared against
    candidate_number: int | None
    last: int
    replayed: int = 0
    changes: list[CaseChange] = field(default_factory=list)

    @property
    def newly_invalid(self) -> int:
        return sum(change.became_invalid for change in self.changes)

    @property
    def newly_valid(self) -> int:
        return sum(change.became_valid for change in self.changes)

    @property
    def computed_values_changed(self) -> int:
        return sum(len(change.computed_changes) for change in self.changes)

    @property
    def newly_missing(self) -> int:
        return sum(bool(change.newly_missing) for change in self.changes)

    @property
    def approvals_now(self) -> Counter:
        """How many cases would now need how many approvals (at some step)."""
        counts: Counter = Counter()
        for change in self.changes:
            for after in {after for _state, _before, after in change.approval_changes}:
                counts[after] += 1
        return counts

    @property
    def messages_changed(self) -> int:
        """Cases whose validity stays but whose messages change."""
        return sum(
            bool(change.new_errors or change.resolved_errors)
            and not (change.became_invalid or change.became_valid)
            for change in self.changes
        )

    def summary_lines(self) -> list[str]:
        if not self.replayed:
            return [_("There are no past cases to replay")]
        lines = []
        if self.newly_invalid:
            lines.append(
                ngettext(
                    "%(num)d past case would now be invalid",
                    "%(num)d past cases would now be invalid",
                    self.newly_invalid,
                )
            )
        if self.newly_missing:
            lines.append(
                ngettext(
                    "%(num)d past case would now miss a required field",
                    "%(num)d past cases would now miss a required field",
                    self.newly_missing,
                )
            )
        if self.newly_valid:
            lines.append(
                ngettext(
                    "%(num)d past case would now be valid",
                    "%(num)d past cases would now be valid",
                    self.newly_valid,
                )
            )
        if self.messages_changed:
            lines.append(
                ngettext(
                    "%(num)d past case would show other messages",
                    "%(num)d past cases would show other messages",
                    self.messages_changed,
                )
            )
        if self.computed_values_changed:
            lines.append(
                ngettext(
                    "%(num)d computed value would change",
                    "%(num)d computed values would change",
                    self.computed_values_changed,
                )
            )
        for approvals, count in sorted(self.approvals_now.items(), key=lambda item: str(item[0])):
            lines.append(
                ngettext(
                    "%(num)d past case would now need %(approvals)s approvals",
                    "%(num)d past cases would now need %(approvals)s approvals",
                    count,
                    approvals=approvals if approvals is not None else "—",
                )
            )
        if not lines:
            lines.append(
                ngettext(
                    "The outcome of the %(num)d past case replayed would not change",
                    "The outcomes of the %(num)d past cases replayed would not change",
                    self.replayed,
                )
            )
        return lines

    def summary(self) -> str:
        return _("; ").join(self.summary_lines()) + _(".")


def _same(first: Any, second: Any) -> bool:
    if isinstance(first, bool) or isinstance(second, bool):
        return first is second
    return first == second


def approvals_rule(spec: dict, state: str) -> Any:
    """The approvals `required` (a number or a rule) of a workflow state of `spec`."""
    states = (spec.get("workflow") or {}).get("states") if isinstance(spec.get("workflow"), dict) else None
    found = states.get(state) if isinstance(states, dict) else None
    approvals = found.get("approvals") if isinstance(found, dict) else None
    return approvals.get("required") if isinstance(approvals, dict) else None
