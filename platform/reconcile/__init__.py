"""Bank reconciliation (对账): bank statements imported with a column mapping saved per bank
account, their lines matched to invoices and registered payments (each match with its reason,
confirmed through billing.payments), small differences written off, and the month closed
against the bank's closing balance (ledger.periods)."""
