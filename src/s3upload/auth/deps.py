"""FastAPI dependencies for the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.datastructures import State

from s3upload.auth.cache import VerifiedTokens
from s3upload.auth.tokens import User, verify
from s3upload.errors import MissingToken


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


class BearerUser(HTTPBearer):
    """The verified caller; 401 with `WWW-Authenticate: Bearer` otherwise.

    A bearer security scheme itself (so the OpenAPI document declares it on every route that
    needs a token) rather than a dependency on one: FastAPI resolves each dependency on every
    request, and this makes the caller one instead of two.
    """

    async def __call__(self, request: Request) -> User:  # type: ignore[override]
        """The caller of `request`."""
        # Requests with a body were authenticated before it was read (BodyGuard).
        user = getattr(request.state, "user", None)
        if not isinstance(user, User):
            user = await authenticate(request.app.state, request.headers.get("Authorization"))
        request.state.owner = user.owner  # for the access log
        return user


current_user = BearerUser(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="A JWT whose `sub` owns the uploads.",
)
CurrentUser = Annotated[User, Depends(current_user)]
