"""Management fees (管理费): fee plans, subscriptions and the fee run (issue 15, begun).

So far: the billing calendar (formflow.billing.calendar) — when each period of a subscription
starts and ends, and what a partial first period costs."""
