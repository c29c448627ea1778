"""What a form's rules read: the one context (data, customer, account, case, user, now) and
the parameter tables a rule may `lookup`."""

from __future__ import annotations

from datetime import UTC, datetime

from formflow.ledger.balances import account_context


def rule_context(data, *, customer=None, account=None, case=None, user=None, now=None) -> dict:
    """The one context every rule sees (row and index are added per row). `account`, unless
    given: a stored customer's balances and this month's posted deductions and fees
    (`ledger.balances.account_context`), as of `now`."""
    moment = now or datetime.now(UTC)
    if account is None and getattr(customer, "id", None) is not None:
        account = account_context(customer, moment if isinstance(moment, datetime) else None)
    return {
        "data": data,
        "customer": customer.snapshot() if hasattr(customer, "snapshot") else (customer or {}),
        "account": account or {},
        "case": case or {},
        "user": _user(user),
        "now": moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else str(moment),
    }


def _user(user) -> dict:
    if user is None or not getattr(user, "is_authenticated", True):
        return {}
    if isinstance(user, dict):
        return user
    return {"username": getattr(user, "username", ""), "roles": list(getattr(user, "role_names", []))}


def spec_tables(spec: dict) -> dict[str, dict]:
    """The tables a rule may `lookup`: the spec's own, plus global tables when available."""
    try:
        from formflow.tables import tables_for
    except ImportError:  # before parameter tables existed
        return {
            t["key"]: _normalized(t) for t in spec.get("tables") or [] if isinstance(t, dict) and "key" in t
        }
    return tables_for(spec)


def version_tables(version) -> dict[str, dict]:
    """The tables a process version's rules read (global tables as pinned at publish)."""
    try:
        from formflow.tables import tables_for_version
    except ImportError:
        return spec_tables(version.spec)
    return tables_for_version(version)


def _normalized(table: dict) -> dict:
    columns = [c["name"] if isinstance(c, dict) else c for c in table.get("columns") or []]
    return {"keyColumn": table.get("keyColumn") or (columns[0] if columns else ""), "columns": columns,
            "rows": table.get("rows") or []}  # fmt: skip
