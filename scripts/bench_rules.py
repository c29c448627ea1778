"""`make bench` (rules part): µs per evaluation of three representative rules through
`formflow.rules`, through raw datalogic-py (compiled, same data handle) and through a
pure-Python JSONLogic library (panzi-json-logic), in the same run.
Targets: ours <= 1.5x raw datalogic; >= 10x faster than the pure-Python library."""

from __future__ import annotations

import json
import statistics
import sys
import time

import datalogic_py
from json_logic import jsonLogic
from json_logic.builtins import BUILTINS

from formflow import rules
from formflow.app import create_app

TABLES = {
    "limits": {
        "keyColumn": "tier",
        "columns": ["tier", "max_single"],
        "rows": [["A", 50000], ["B", 20000], ["C", 5000]],
    }
}
CONTEXT = {
    "data": {
        "amount": 1200.5,
        "reason": "other",
        "items": [{"amount": 100 + i, "method": "bank" if i % 2 else "cash"} for i in range(20)],
    },
    "customer": {"tier": "B"},
}
RULES = {
    "simple guard": {"and": [{">": [{"var": "data.amount"}, 0]}, {"==": [{"var": "data.reason"}, "other"]}]},
    "lookup threshold": {
        "<=": [{"var": "data.amount"}, {"lookup": ["limits", {"var": "customer.tier"}, "max_single"]}]
    },
    "compute over 20 rows": {
        "*": [
            {
                "reduce": [
                    {"var": "data.items"},
                    {"+": [{"var": "accumulator"}, {"var": "current.amount"}]},
                    0,
                ]
            },
            0.06,
        ]
    },
}
TARGET_RAW_RATIO = 1.5
TARGET_PURE_SPEEDUP = 10.0


def raw_lookup(arguments_json: str) -> str:
    table, key, column = json.loads(arguments_json)
    found = TABLES[table]
    index, key_index = found["columns"].index(column), found["columns"].index(found["keyColumn"])
    return json.dumps(next((row[index] for row in found["rows"] if row[key_index] == key), None))


def pure_lookup(_data, table, key, column):
    found = TABLES[table]
    index, key_index = found["columns"].index(column), found["columns"].index(found["keyColumn"])
    return next((row[index] for row in found["rows"] if row[key_index] == key), None)


def per_call_us(function, repeat: int) -> float:
    """Median of 5 runs of `repeat` calls, in µs per call."""
    function()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        runs.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(runs)


def main() -> int:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    raw_engine = datalogic_py.Engine(custom_operators={"lookup": raw_lookup})
    raw_handle = None
    pure_operations = {**BUILTINS, "lookup": pure_lookup}
    ok = True
    with create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench"}).app_context():
        prepared = rules.prepare(CONTEXT, TABLES)  # a submission prepares its context once
        raw_handle = prepared
        print(f"{'rule':24} {'formflow':>10} {'raw':>10} {'pure-Py':>10} {'ours/raw':>9} {'pure/ours':>10}")
        for name, rule in RULES.items():
            compiled = rules.compile(rule)
            # raw: datalogic-py on the very text we compile (lookups inlined) and the same handle
            raw_rule = raw_engine.compile(compiled.text)
            expected = jsonLogic(rule, CONTEXT, pure_operations)
            assert (
                compiled.evaluate(prepared, tables=TABLES) == raw_rule.evaluate_data(raw_handle) == expected
            ), name
            ours = per_call_us(lambda c=compiled: c.evaluate(prepared), repeat)
            raw = per_call_us(lambda r=raw_rule: r.evaluate_data(raw_handle), repeat)
            pure = per_call_us(lambda r=rule: jsonLogic(r, CONTEXT, pure_operations), repeat)
            ratio, speedup = ours / raw, pure / ours
            ok &= ratio <= TARGET_RAW_RATIO and speedup >= TARGET_PURE_SPEEDUP
            print(f"{name:24} {ours:8.2f}µs {raw:8.2f}µs {pure:8.2f}µs {ratio:9.2f} {speedup:9.1f}x")
    print(f"targets: ours/raw <= {TARGET_RAW_RATIO}, pure/ours >= {TARGET_PURE_SPEEDUP}")
    print("RESULT", "OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
