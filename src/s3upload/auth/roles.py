"""The roles a token may carry that the service itself gives meaning to."""

from __future__ import annotations

# Sets the processing statuses on any file, verifies any upload, lists and downloads all files.
PROCESSOR = "processor"
# Reads any file.
ADMIN = "admin"
