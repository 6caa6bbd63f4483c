"""What a caller may do to an upload: one decision per action, and the dependencies."""
