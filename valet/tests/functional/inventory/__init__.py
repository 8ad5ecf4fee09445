"""Functional tests of the inventory drivers and the notification listener."""
