"""portchain web."""
