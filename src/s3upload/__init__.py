"""s3upload: direct-to-S3 uploads through signed URLs."""

__version__ = "0.1.0"
