"""portchain cli."""
