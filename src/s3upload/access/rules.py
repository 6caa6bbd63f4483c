"""The one decision of who may do what to an upload.

Every route that touches an existing upload asks here, through the dependencies in
`access.deps`. Anyone the rules refuse gets the same 404 as for an id that does not exist,
so ids cannot be probed; a 403 only tells an owner which role they lack, or a reader of a
scope why they may not delete in it.

Files in a scope are also open to whoever the scope's rules let in (`access.scopes`):
reading and downloading with `read`, deleting with `delete`, claiming with `upload`. Signing,
completing and cancelling stay with the uploader.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from s3upload.access.scopes import ScopeAction, ScopeGate
from s3upload.auth import roles
from s3upload.auth.tokens import User
from s3upload.db.models import Upload
from s3upload.errors import Forbidden, NotFound, RoleRequired


class Action(StrEnum):
    """What a caller wants to do with an upload."""

    READ = "read"  # see the record (and a fresh target while it is pending)
    DOWNLOAD = "download"  # sign a GET of the object
    SIGN = "sign"  # sign part URLs of a pending upload
    COMPLETE = "complete"  # report it done (the service verifies)
    CANCEL = "cancel"  # abort a pending upload
    DELETE = "delete"  # remove the object and mark the record deleted
    PROCESS = "process"  # set processing, completed or failed
    CLAIM = "claim"  # tell the service the application has attached the file


# What a scope must allow for someone other than the owner to act on one of its files.
SCOPE_ACTIONS = {
    Action.READ: ScopeAction.READ,
    Action.DOWNLOAD: ScopeAction.READ,
    Action.DELETE: ScopeAction.DELETE,
    Action.CLAIM: ScopeAction.UPLOAD,
}


def check(user: User, upload: Upload, action: Action) -> None:
    """Return if `user` may do `action` to `upload`; raise 404 (or 403 for a role) if not."""
    own = upload.owner == user.owner
    if action in (Action.READ, Action.DOWNLOAD):
        # Processors read and fetch any file, so a worker can live outside the service.
        allowed = own or user.has(roles.ADMIN) or user.has(roles.PROCESSOR)
    elif action in (Action.COMPLETE, Action.CLAIM):
        # Verifying only compares the store with the record, and claiming only says the
        # application keeps the file: a processor may do either for anyone.
        allowed = own or user.has(roles.PROCESSOR)
    elif action == Action.PROCESS:
        if user.has(roles.PROCESSOR):
            return
        if own:
            raise RoleRequired("Setting a processing status needs the 'processor' role.")
        allowed = False
    else:
        allowed = own
    if not allowed:
        raise NotFound()


def allowed(user: User, upload: Upload, action: Action) -> bool:
    """Whether `user` may do `action` to `upload`, as a yes or no."""
    try:
        check(user, upload, action)
    except (NotFound, RoleRequired):
        return False
    return True


async def authorize(user: User, upload: Upload, action: Action, gate: ScopeGate) -> None:
    """`check`, and for a scoped file the scope's own rules where the owner's refuse."""
    try:
        check(user, upload, action)
        return
    except NotFound:
        wanted = SCOPE_ACTIONS.get(action)
        if upload.scope is None or wanted is None:
            raise
    decision = await gate.decide(user, upload.scope, wanted, profile=upload.profile)
    if decision.allow:
        return
    if wanted != ScopeAction.READ:
        # A reader of the scope already knows the file: tell them why, not that it is missing.
        can_read = await gate.decide(user, upload.scope, ScopeAction.READ, profile=upload.profile)
        if can_read.allow:
            raise Forbidden(decision.message or "Not allowed.")
    raise NotFound()


async def load(
    session: AsyncSession,
    user: User,
    action: Action,
    gate: ScopeGate,
    *,
    upload_id: uuid.UUID | None = None,
    key: str | None = None,
) -> Upload:
    """The upload by id or key, if `user` may do `action` to it; 404 otherwise."""
    stmt = select(Upload)
    stmt = stmt.where(Upload.id == upload_id) if upload_id else stmt.where(Upload.key == key)
    upload = (await session.execute(stmt)).scalar_one_or_none()
    # End the read's transaction: the connection goes back to the pool instead of waiting
    # through store calls and the answer (status changes are compare-and-set, not locks).
    await session.commit()
    if upload is None:
        raise NotFound()
    await authorize(user, upload, action, gate)
    return upload
