"""Dependencies that load an upload and let the route have it only if the caller may act."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.access.pending import PendingUploads
from s3upload.access.rules import Action, load
from s3upload.access.scopes import ScopeGate
from s3upload.auth.deps import CurrentUser
from s3upload.auth.ratelimit import SignLimited
from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.db.session import SessionDep
from s3upload.errors import NotFound
from s3upload.services import Services


async def scope_gate(request: Request) -> ScopeGate:
    """The app's scope decisions (settings and the authorization hook)."""
    gate: ScopeGate = request.app.state.gate
    return gate


async def _resolve(
    request: Request,
    session: AsyncSession,
    user: User,
    gate: ScopeGate,
    action: Action,
    upload_id: uuid.UUID,
) -> Upload:
    """The upload if the caller may do `action`; an action that may end it first forgets it
    from the pending uploads kept for signing."""
    if action not in (Action.READ, Action.DOWNLOAD, Action.SIGN):
        pending: PendingUploads = request.app.state.pending
        pending.drop(upload_id)
    return await load(session, user, action, gate, upload_id=upload_id)


async def _signable(services: Services, user: User, upload_id: uuid.UUID) -> Upload:
    """The upload if the caller may sign its parts: from memory when this worker loaded it
    lately (only its owner signs), otherwise from the database on a session of its own, so
    that signing from memory opens none."""
    kept = services.pending.get(upload_id)
    if kept is not None and kept.owner == user.owner:
        return kept
    async with services.sessions() as session:
        upload = await load(session, user, Action.SIGN, services.gate, upload_id=upload_id)
    services.pending.keep(upload)
    return upload


Gate = Annotated[ScopeGate, Depends(scope_gate)]
UppyKey = Annotated[str, Query(max_length=1024, description="The upload's key, as Uppy sends it.")]


def upload_for(action: Action) -> Callable[..., Awaitable[Upload]]:
    """A dependency: the upload named by the path's `id`, if the caller may do `action`."""

    async def dependency(
        id: uuid.UUID, request: Request, session: SessionDep, user: CurrentUser, gate: Gate
    ) -> Upload:
        request.state.upload_id = str(id)
        return await _resolve(request, session, user, gate, action, id)

    return dependency


def uppy_upload_for(action: Action) -> Callable[..., Awaitable[Upload]]:
    """The same for Uppy's routes: `uploadId` in the path, and its `key` in the query."""

    async def dependency(
        uploadId: uuid.UUID,
        key: UppyKey,
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        gate: Gate,
    ) -> Upload:
        request.state.upload_id = str(uploadId)
        return _keyed(await _resolve(request, session, user, gate, action, uploadId), key)

    return dependency


async def signable_upload(id: uuid.UUID, request: Request, user: SignLimited) -> Upload:
    """The upload named by the path's `id`, if the caller may sign its parts (a signing,
    counted against the caller's rate limits)."""
    request.state.upload_id = str(id)
    return await _signable(request.app.state.services, user, id)


async def uppy_signable_upload(
    uploadId: uuid.UUID, key: UppyKey, request: Request, user: SignLimited
) -> Upload:
    """The same for Uppy's routes."""
    request.state.upload_id = str(uploadId)
    return _keyed(await _signable(request.app.state.services, user, uploadId), key)


def _keyed(upload: Upload, key: str) -> Upload:
    """404 unless `key` (Uppy sends it back with every call) is the upload's key."""
    if upload.key != key:
        raise NotFound()
    return upload


ReadableUpload = Annotated[Upload, Depends(upload_for(Action.READ))]
DownloadableUpload = Annotated[Upload, Depends(upload_for(Action.DOWNLOAD))]
SignableUpload = Annotated[Upload, Depends(signable_upload)]
CompletableUpload = Annotated[Upload, Depends(upload_for(Action.COMPLETE))]
CancellableUpload = Annotated[Upload, Depends(upload_for(Action.CANCEL))]
DeletableUpload = Annotated[Upload, Depends(upload_for(Action.DELETE))]
ClaimableUpload = Annotated[Upload, Depends(upload_for(Action.CLAIM))]

UppySignable = Annotated[Upload, Depends(uppy_signable_upload)]
UppyPartsReadable = Annotated[Upload, Depends(uppy_upload_for(Action.SIGN))]
UppyCompletable = Annotated[Upload, Depends(uppy_upload_for(Action.COMPLETE))]
UppyCancellable = Annotated[Upload, Depends(uppy_upload_for(Action.CANCEL))]
