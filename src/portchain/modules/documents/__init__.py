"""Documents: a vault of encrypted trade documents, anchored and shared on the ledger."""
