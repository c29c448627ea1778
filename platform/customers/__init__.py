"""Customers, their tier and status."""
