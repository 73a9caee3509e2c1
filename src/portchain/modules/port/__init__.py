"""Port: terminals, their berth schedule, and the physical moves of containers."""
