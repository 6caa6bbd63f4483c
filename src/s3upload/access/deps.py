"""Dependencies that load an upload and let the route have it only if the caller may act."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from s3upload.access.pending import PendingUploads
from s3upload.access.rules import Action, load
from s3upload.access.scopes import ScopeGate
from s3upload.auth.deps import CurrentUser
from s3upload.db.models import Upload
from s3upload.db.session import SessionDep
from s3upload.errors import NotFound


async def scope_gate(request: Request) -> ScopeGate:
    """The app's scope decisions (settings and the authorization hook)."""
    gate: ScopeGate = request.app.state.gate
    return gate


async def _resolve(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    gate: Gate,
    action: Action,
    upload_id: uuid.UUID,
) -> Upload:
    """The upload if the caller may do `action`: for signing, from memory when this worker
    loaded it lately (only its owner signs); any other action first forgets it, since the
    action may end it."""
    pending: PendingUploads = request.app.state.pending
    if action == Action.SIGN:
        kept = pending.get(upload_id)
        if kept is not None and kept.owner == user.owner:
            return kept
        upload = await load(session, user, action, gate, upload_id=upload_id)
        pending.keep(upload)
        return upload
    if action not in (Action.READ, Action.DOWNLOAD):
        pending.drop(upload_id)
    return await load(session, user, action, gate, upload_id=upload_id)


Gate = Annotated[ScopeGate, Depends(scope_gate)]


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
        key: Annotated[
            str, Query(max_length=1024, description="The upload's key, as Uppy sends it.")
        ],
        request: Request,
        session: SessionDep,
        user: CurrentUser,
        gate: Gate,
    ) -> Upload:
        request.state.upload_id = str(uploadId)
        upload = await _resolve(request, session, user, gate, action, uploadId)
        if upload.key != key:
            raise NotFound()
        return upload

    return dependency


ReadableUpload = Annotated[Upload, Depends(upload_for(Action.READ))]
DownloadableUpload = Annotated[Upload, Depends(upload_for(Action.DOWNLOAD))]
SignableUpload = Annotated[Upload, Depends(upload_for(Action.SIGN))]
CompletableUpload = Annotated[Upload, Depends(upload_for(Action.COMPLETE))]
CancellableUpload = Annotated[Upload, Depends(upload_for(Action.CANCEL))]
DeletableUpload = Annotated[Upload, Depends(upload_for(Action.DELETE))]
ClaimableUpload = Annotated[Upload, Depends(upload_for(Action.CLAIM))]

UppySignable = Annotated[Upload, Depends(uppy_upload_for(Action.SIGN))]
UppyCompletable = Annotated[Upload, Depends(uppy_upload_for(Action.COMPLETE))]
UppyCancellable = Annotated[Upload, Depends(uppy_upload_for(Action.CANCEL))]
