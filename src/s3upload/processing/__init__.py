"""Processing: the real type of stored bytes, and image variants made by workers."""
