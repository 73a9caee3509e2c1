"""portchain: a permissioned blockchain for a digital port."""

__version__ = "0.1.0"
