"""Engines drive the app: solo (embedded, one process) and cometbft (ABCI for a network)."""
