"""Customer self-service: a signed, expiring, revocable link per customer that shows, without a
login, the customer's balances, entries, statements, invoices and notices, and lets the
customer dispute a deduction or appeal an offboarding notice (each starts a case)."""
