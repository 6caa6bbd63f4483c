"""Multipart uploads: part planning, batch signing, resume, complete, abort."""
