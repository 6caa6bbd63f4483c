"""Object store: the async S3 client wrapper and the SigV4 signer."""
