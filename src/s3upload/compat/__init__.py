"""Routes shaped like Companion's, so Uppy's `@uppy/aws-s3` plugin can use this service."""
