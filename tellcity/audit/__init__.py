"""The audit log of configuration changes: who changed what, from what, to what."""
