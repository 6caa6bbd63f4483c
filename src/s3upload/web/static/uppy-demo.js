// The Uppy page: the stock Dashboard and @uppy/aws-s3, pointed at this service.
const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = "s3upload-demo:token";
const PROFILE_KEY = "s3upload-demo:profile";
// The key ends `<id>/<safe-name>`; the id is a UUID.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const tokenInput = $("#token");
const profileSelect = $("#profile");
tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
if (localStorage.getItem(PROFILE_KEY)) profileSelect.value = localStorage.getItem(PROFILE_KEY);
$("#settings").addEventListener("submit", (e) => e.preventDefault());

const authHeaders = () => ({ Authorization: `Bearer ${tokenInput.value.trim()}` });

let mod;
try {
  // Installed by scripts/build-uppy.sh; not committed.
  mod = await import("/demo/uppy/dist/uppy.min.mjs");
} catch {
  $("#uppy-missing").hidden = false;
  document.body.dataset.uppy = "missing";
}

if (mod) {
  const { Uppy, Dashboard, AwsS3 } = mod;
  const uppy = new Uppy({ meta: { profile: profileSelect.value } })
    .use(Dashboard, {
      inline: true,
      target: "#uppy",
      width: "100%",
      height: 420,
      showProgressDetails: true,
      proudlyDisplayPoweredByUppy: false,
      note: "Files above 100 MiB go multipart (Uppy's default), the rest in one PUT.",
    })
    // shouldUseMultipart stays Uppy's default (multipart above 100 MiB).
    .use(AwsS3, { id: "AwsS3", endpoint: location.origin, headers: authHeaders() });

  // Uppy does not send sizes. With one the service signs a PUT bound to it; without, a POST
  // form, and Ceph RGW answers POST uploads without the ETag header Uppy 4 waits for.
  uppy.on("file-added", (f) => uppy.setFileMeta(f.id, { size: f.size, profile: profileSelect.value }));

  tokenInput.addEventListener("input", () => {
    localStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    uppy.getPlugin("AwsS3").setOptions({ headers: authHeaders() });
  });
  profileSelect.addEventListener("change", () => {
    localStorage.setItem(PROFILE_KEY, profileSelect.value);
    uppy.setMeta({ profile: profileSelect.value });
    for (const f of uppy.getFiles()) uppy.setFileMeta(f.id, { profile: profileSelect.value });
  });

  uppy.on("upload-success", async (file, response) => {
    if (file.s3Multipart?.uploadId) {
      // Multipart: Uppy called /s3/multipart/{id}/complete, which verified it.
      result(file.name, response.body?.status || "uploaded", response.body?.id);
      return;
    }
    // Single uploads are never reported complete by Uppy: tell the service, which verifies.
    const body = { status: "uploaded" };
    const key = file.s3Multipart?.key || response.body?.key;
    if (key) body.key = key;
    else body.id = idFromUrl(response.uploadURL);
    try {
      const resp = await fetch("/file-status", {
        method: "PUT",
        headers: { ...authHeaders(), "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const json = await resp.json();
      if (resp.ok) result(file.name, json.status, json.id);
      else result(file.name, "failed", body.id, json.message);
    } catch (err) {
      result(file.name, "failed", body.id, String(err));
    }
  });
  uppy.on("upload-error", (file, err) => result(file.name, "failed", null, err?.message));

  window.uppy = uppy; // for the console (and the end-to-end tests)
  document.body.dataset.uppy = "ready";
}

/** The upload id in a store URL `…/<id>/<safe-name>` (path- or host-style alike). */
function idFromUrl(url) {
  const segments = new URL(url).pathname.split("/");
  const id = decodeURIComponent(segments[segments.length - 2] || "");
  return UUID.test(id) ? id : null;
}

function result(name, status, id, message) {
  const li = document.createElement("li");
  li.dataset.name = name;
  li.dataset.status = status;
  if (id) li.dataset.id = id;
  const badge = document.createElement("span");
  badge.className = `badge ${status}`;
  badge.textContent = status;
  const label = document.createElement("span");
  label.textContent = name;
  li.append(badge, label);
  if (message) {
    const err = document.createElement("span");
    err.className = "error";
    err.textContent = message;
    li.append(err);
  }
  $("#results").prepend(li);
  $("#results-empty").hidden = true;
}
