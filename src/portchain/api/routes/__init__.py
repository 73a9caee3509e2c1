"""One router per concern; each module contributes its own."""
