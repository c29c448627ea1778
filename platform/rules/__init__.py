"""JSONLogic rules: `evaluate`, `compile`, `check`, `prepare` (see ARCHITECTURE.md).

datalogic-py evaluates; Formflow adds its operators (`lookup`, dates, `money`), an
operation budget, a depth bound and checks with JSON Pointers."""

from formflow.rules.checking import check
from formflow.rules.engine import CompiledRule, Prepared, compile, evaluate, prepare
from formflow.rules.errors import RuleError
from formflow.rules.operators import OPERATORS, bound, to_money

__all__ = [
    "OPERATORS",
    "CompiledRule",
    "Prepared",
    "RuleError",
    "bound",
    "check",
    "compile",
    "evaluate",
    "prepare",
    "to_money",
]
