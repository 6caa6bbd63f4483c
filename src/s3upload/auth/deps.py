"""FastAPI dependencies for the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from s3upload.auth.cache import VerifiedTokens
from s3upload.auth.tokens import User, verify
from s3upload.errors import MissingToken

bearer = HTTPBearer(auto_error=False, description="A JWT whose `sub` owns the uploads.")


async def authenticate(app_state: State, authorization: str | None) -> User:
    """The caller named by an `Authorization` header, verified; 401 otherwise."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingToken("A bearer token is required.")
    verified: VerifiedTokens = app_state.tokens
    user = verified.get(token)
    if user is None:
        user = await verify(token, app_state.settings.auth, app_state.jwks)
        verified.put(token, user)
    return user


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The verified caller; 401 with `WWW-Authenticate: Bearer` otherwise."""
    # Requests with a body were authenticated before it was read (BodyGuard).
    user = getattr(request.state, "user", None)
    if not isinstance(user, User):
        user = await authenticate(request.app.state, request.headers.get("Authorization"))
    request.state.owner = user.owner  # for the access log
    return user


CurrentUser = Annotated[User, Depends(current_user)]
