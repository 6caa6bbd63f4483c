"""The browser demo: `/demo` (the page and its JavaScript client), `/demo/uppy` (Uppy's Dashboard).

Everything here is static and needs no token: the pages ask the user for one and send it to
the API themselves. Uppy is not committed; `scripts/build-uppy.sh` installs it from the npm
registry into `web/uppy/node_modules` (git-ignored), and `/demo/uppy/dist/...` serves its
browser bundle when present.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from s3upload.settings import Settings
from s3upload.store.signer import Signer

WEB = Path(__file__).resolve().parent
STATIC = WEB / "static"
UPPY_DIST = WEB / "uppy" / "node_modules" / "uppy" / "dist"
# Only the bundle and its stylesheet are served out of node_modules.
UPPY_FILES = {"uppy.min.mjs": "text/javascript", "uppy.min.css": "text/css"}
UPPY_MISSING = "Uppy is not built: run scripts/build-uppy.sh, then reload this page.\n"

router = APIRouter(include_in_schema=False)


@functools.cache
def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _profile_options(settings: Settings) -> str:
    """`<option>`s for the profile selector, with what each profile accepts as a hint and the
    variants it makes (the page waits for them)."""
    out = []
    for name, profile in settings.profiles.items():
        out.append(
            f'<option value="{html.escape(name)}"'
            f' data-types="{html.escape(", ".join(profile.allowed_types))}"'
            f' data-max="{profile.max_size}"'
            f' data-variants="{html.escape(",".join(profile.variants))}">'
            f"{html.escape(name)}</option>"
        )
    return "".join(out)


def _store_origin(settings: Settings) -> str:
    """The origin browsers send bytes to (the public endpoint, bucket host included)."""
    s3 = settings.s3
    signer = Signer(
        endpoint_url=s3.signing_endpoint,
        region=s3.region,
        bucket=s3.bucket,
        path_style=s3.use_path_style,
    )
    return _origin(signer.object_url("k"))


def _origin(url: str) -> str:
    """scheme://host[:port] of a URL, as a Content-Security-Policy source."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _render(request: Request, name: str) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    body = _page(name).replace("<!--profiles-->", _profile_options(settings))
    store = _store_origin(settings)
    # Images come from the store (signed variant URLs, public files on the bucket's own URL)
    # and from PUBLIC_BASE_URL (a CDN) when it is set.
    images = [store] + ([_origin(settings.public_base_url)] if settings.public_base_url else [])
    # The page holds a bearer token: no inline scripts, no third-party code, no framing.
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob: {' '.join(dict.fromkeys(images))}; "
        f"connect-src 'self' {store}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": csp,
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/demo")
async def demo(request: Request) -> HTMLResponse:
    """The demo page: drag and drop, progress, multipart, resume, cancel, my files."""
    return _render(request, "demo.html")


@router.get("/demo/uppy")
async def demo_uppy(request: Request) -> HTMLResponse:
    """The same service through Uppy's Dashboard and `@uppy/aws-s3`."""
    return _render(request, "uppy.html")


@router.get("/demo/uppy/dist/{name}")
async def uppy_dist(name: str) -> Response:
    """Uppy's browser bundle, installed by `scripts/build-uppy.sh`."""
    if name not in UPPY_FILES:
        raise HTTPException(status_code=404, detail="No such file.")
    path = UPPY_DIST / name
    if not path.is_file():
        return PlainTextResponse(UPPY_MISSING, status_code=404)
    return FileResponse(path, media_type=UPPY_FILES[name], headers={"Cache-Control": "no-cache"})


def install(app: FastAPI) -> None:
    """Add the demo pages and their static files to the app."""
    app.include_router(router)
    app.mount("/demo/static", StaticFiles(directory=STATIC), name="demo-static")
