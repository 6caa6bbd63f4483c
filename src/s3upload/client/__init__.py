"""Python client of the s3upload service: the API, file uploads with resume, the commands."""

from s3upload.client.api import ApiClient
from s3upload.client.errors import ClientError
from s3upload.client.models import Download, Page, StoredPart, Target, Upload
from s3upload.client.result import UploadResult
from s3upload.client.retry import Backoff
from s3upload.client.transfer import upload_file

__all__ = [
    "ApiClient",
    "Backoff",
    "ClientError",
    "Download",
    "Page",
    "StoredPart",
    "Target",
    "Upload",
    "UploadResult",
    "upload_file",
]
