"""The roles a token may carry that the service itself gives meaning to."""

from __future__ import annotations

# Sets the processing statuses on any file, and verifies any upload.
PROCESSOR = "processor"
# Reads any file.
ADMIN = "admin"
