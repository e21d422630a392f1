"""TellCity test suite."""
