"""Storage: SQLite for state, tree nodes, blocks, results and the event index."""
