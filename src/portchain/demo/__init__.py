"""The demo scenario: a realistic run through the ledger, grown module by module."""
