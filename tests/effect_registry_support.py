"""A test-only effect, registered the way a feature package registers one: through
formflow.effects alone, importing nothing of formflow.workflows (test_effect_registry.py
checks that in a fresh interpreter)."""

from __future__ import annotations

from formflow.effects import LOGIC_SCHEMA, EffectContext, effect

NAME = "test.stamp"
#: what each run saw: (idempotency key, the note's value)
RAN: list[tuple[str, object]] = []


@effect(NAME, schema={"required": ["note"], "properties": {"note": LOGIC_SCHEMA}}, logic=("/note",))
def stamp(ctx: EffectContext, config: dict) -> dict:
    note = ctx.value(config["note"])
    RAN.append((ctx.key, note))
    return {"note": note, "state": ctx.state}
