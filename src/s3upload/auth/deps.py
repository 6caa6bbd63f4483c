"""FastAPI dependencies for the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from s3upload.auth.cache import VerifiedTokens
from s3upload.auth.tokens import User, verify
from s3upload.errors import MissingToken

bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` owns the uploads.")


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The verified caller; 401 with `WWW-Authenticate: Bearer` otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise MissingToken("A bearer token is required.")
    token = credentials.credentials
    verified: VerifiedTokens = request.app.state.tokens
    user = verified.get(token)
    if user is None:
        user = await verify(token, request.app.state.settings.auth, request.app.state.jwks)
        verified.put(token, user)
    request.state.owner = user.owner  # for the access log
    return user


CurrentUser = Annotated[User, Depends(current_user)]
