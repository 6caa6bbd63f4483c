"""Files: list, get, download and delete the caller's uploads."""
