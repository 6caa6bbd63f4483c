"""The browser demo and the dependency-free JavaScript client (`/demo`, `/demo/static/...`)."""

from s3upload.web.router import install

__all__ = ["install"]
