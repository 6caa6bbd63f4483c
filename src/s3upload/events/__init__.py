"""Keeping records true: store events (webhook, SNS, SQS) and the sweeper."""
