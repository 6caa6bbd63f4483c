"""Uploads: create, sign, verify, and move through the state machine."""
