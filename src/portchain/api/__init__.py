"""portchain api."""
