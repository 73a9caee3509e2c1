"""portchain sdk."""
