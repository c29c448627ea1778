"""The double-entry ledger: accounts, journals, postings, statements."""
