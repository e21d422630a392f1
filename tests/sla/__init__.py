"""Tests of business-hours arithmetic for SLA deadlines."""
