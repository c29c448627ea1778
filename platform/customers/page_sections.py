"""What the customer page shows besides the customer itself: packages above this one (the
ledger's balances and entries, the cases and notices) register a section here, as effects
register in formflow.effects, so the customer package never imports them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from formflow.customers.models import Customer


@dataclass
class Section:
    #: the template that renders it (given `customer` and `section`)
    template: str
    context: dict


#: (order, provider): a provider gives its Section for a customer, or None to show nothing
PROVIDERS: list[tuple[int, Callable[[Customer], Section | None]]] = []


def section(order: int):
    """Register a provider of a customer page section; lower orders come first."""

    def register(provider: Callable[[Customer], Section | None]):
        if all(known is not provider for _order, known in PROVIDERS):
            PROVIDERS.append((order, provider))
            PROVIDERS.sort(key=lambda item: item[0])
        return provider

    return register


def sections(customer: Customer) -> list[Section]:
    return [found for _order, provider in PROVIDERS if (found := provider(customer)) is not None]
