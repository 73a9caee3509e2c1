"""portchain node."""
