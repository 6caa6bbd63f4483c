// The demo page: wires s3upload.js to a drop zone, progress rows and the list of my files.
import { S3UploadClient } from "./s3upload.js";

const $ = (sel, root = document) => root.querySelector(sel);
const TOKEN_KEY = "s3upload-demo:token";
const PROFILE_KEY = "s3upload-demo:profile";
const DELETABLE = new Set(["pending", "uploaded", "processing", "completed", "failed"]);
const READABLE = new Set(["uploaded", "processing", "completed"]);
// Statuses of a file whose variants are still being made: the list looks again every POLL_MS.
const WAITING = new Set(["uploaded", "processing"]);
const POLL_MS = 1500;

const tokenInput = $("#token");
const profileSelect = $("#profile");
tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
if (localStorage.getItem(PROFILE_KEY)) profileSelect.value = localStorage.getItem(PROFILE_KEY);

const client = new S3UploadClient({ endpoint: location.origin, token: () => tokenInput.value.trim() });

function formatBytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(n < 10 && i ? 1 : 0)} ${units[i]}`;
}

function formatDuration(s) {
  if (!Number.isFinite(s)) return "";
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** The service's sentence, with its status so a 413 and a 415 read differently. */
function showError(el, err) {
  el.replaceChildren();
  if (err.status) {
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = String(err.status);
    el.append(code);
  }
  el.append(err.message || String(err));
  el.hidden = false;
}

// --- settings -------------------------------------------------------------------------------

/** The variants a profile makes (`data-variants` of its option), e.g. ["thumb", "large"]. */
function variantsOf(profile) {
  const opt = [...profileSelect.options].find((o) => o.value === profile);
  return opt?.dataset.variants ? opt.dataset.variants.split(",") : [];
}

function showProfileHint() {
  const opt = profileSelect.selectedOptions[0];
  if (!opt) return;
  const max = Number(opt.dataset.max);
  const types = opt.dataset.types === "*/*" ? "any type" : opt.dataset.types;
  const variants = variantsOf(opt.value);
  const makes = variants.length ? `, and makes variants of each image: ${variants.join(", ")}` : "";
  $("#profile-hint").textContent = `Profile “${opt.value}” accepts ${types}, up to ${formatBytes(max)}${makes}.`;
}
profileSelect.addEventListener("change", () => {
  localStorage.setItem(PROFILE_KEY, profileSelect.value);
  showProfileHint();
});
showProfileHint();

$("#settings").addEventListener("submit", (e) => e.preventDefault());
let tokenTimer;
tokenInput.addEventListener("input", () => {
  localStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
  clearTimeout(tokenTimer);
  tokenTimer = setTimeout(refreshFiles, 400);
});

// --- drop zone ------------------------------------------------------------------------------

const drop = $("#drop");
const picker = $("#files");
drop.addEventListener("click", (e) => { if (!e.target.closest("label")) picker.click(); });
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); picker.click(); } });
picker.addEventListener("change", () => { addFiles(picker.files); picker.value = ""; });
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
}
drop.addEventListener("dragleave", (e) => { if (!drop.contains(e.relatedTarget)) drop.classList.remove("over"); });
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  addFiles(e.dataTransfer.files);
});
// A file dropped beside the zone must not replace the page (and its uploads) with the file.
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => e.preventDefault());

// --- uploads --------------------------------------------------------------------------------

const list = $("#uploads");
const rowTemplate = $("#upload-row");

client.addEventListener("progress", (e) => {
  const { loaded, total } = e.detail;
  const pct = total ? (100 * loaded) / total : 0;
  $("#overall-bar").style.width = `${pct}%`;
  $(".bar.overall").setAttribute("aria-valuenow", String(Math.floor(pct)));
  $("#overall-text").textContent = total ? `${formatBytes(loaded)} of ${formatBytes(total)} · ${Math.floor(pct)} %` : "";
});

function addFiles(files) {
  if (!files.length) return;
  $("#uploads-card").hidden = false;
  for (const file of files) track(client.upload(file, { profile: profileSelect.value }));
}

function track(upload) {
  const row = rowTemplate.content.firstElementChild.cloneNode(true);
  const { file } = upload;
  row.dataset.name = file.name;
  $(".name", row).textContent = file.name;
  $(".name", row).title = file.name;
  $(".size", row).textContent = formatBytes(file.size);
  list.prepend(row);

  const bar = $(".bar > div", row);
  const samples = []; // [time ms, bytes] over the last few seconds, for speed and time left
  let frame = 0;
  const paint = () => {
    frame = 0;
    const pct = upload.total ? (100 * upload.loaded) / upload.total : 100;
    bar.style.width = `${pct}%`;
    $(".pct", row).textContent = `${Math.floor(pct)} %`;
    const active = upload.state === "uploading";
    let speed = NaN;
    if (samples.length > 1) {
      const [t0, b0] = samples[0];
      const [t1, b1] = samples[samples.length - 1];
      if (t1 > t0) speed = ((b1 - b0) * 1000) / (t1 - t0);
    }
    $(".speed", row).textContent = active && speed > 0 ? `${formatBytes(speed)}/s` : "";
    $(".eta", row).textContent = active && speed > 0 ? `${formatDuration((upload.total - upload.loaded) / speed)} left` : "";
  };
  upload.addEventListener("progress", () => {
    const now = performance.now();
    samples.push([now, upload.loaded]);
    while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
    if (!frame) frame = requestAnimationFrame(paint);
  });

  const setState = () => {
    const { state } = upload;
    row.dataset.state = state;
    if (upload.id) row.dataset.uploadId = upload.id;
    const badge = $(".state", row);
    badge.textContent = state;
    badge.className = `badge state ${state}`;
    const cancel = $(".cancel", row);
    cancel.hidden = ["uploaded", "aborted", "failed"].includes(state);
    cancel.disabled = state === "cancelling";
    const notes = [];
    if (upload.partCount) notes.push(`${upload.partCount} parts`);
    if (upload.resumedParts) notes.push(`resumed, ${upload.resumedParts} already stored`);
    $(".note", row).textContent = notes.join(" · ");
    if (state === "failed" && upload.error) showError($(".error", row), upload.error);
    paint();
    if (["uploaded", "aborted", "failed"].includes(state) || state === "uploading") refreshFiles();
  };
  upload.addEventListener("state", setState);
  setState();
  $(".cancel", row).addEventListener("click", () => upload.cancel());
}

// --- my files -------------------------------------------------------------------------------

let refreshing = null;
let again = false;
/** GET /files, coalescing calls that come while one is running into one more. */
async function refreshFiles() {
  if (refreshing) { again = true; return refreshing; }
  refreshing = (async () => {
    do {
      again = false;
      await loadFiles();
    } while (again);
  })().finally(() => { refreshing = null; });
  return refreshing;
}

let pollTimer = 0;
async function loadFiles() {
  clearTimeout(pollTimer);
  const errorEl = $("#files-error");
  if (!tokenInput.value.trim()) {
    rows.clear();
    $("#file-list").replaceChildren();
    $("#files-empty").hidden = false;
    $("#files-empty").textContent = "Paste a token above to see your files.";
    errorEl.hidden = true;
    return;
  }
  try {
    const page = await client.api("GET", "/files?limit=100", undefined, { retry: false });
    errorEl.hidden = true;
    renderFiles(page.items);
    // Until their variants are made (or they fail), look again.
    if (page.items.some(awaitsVariants)) pollTimer = setTimeout(refreshFiles, POLL_MS);
  } catch (err) {
    showError(errorEl, err);
  }
}

function awaitsVariants(item) {
  return WAITING.has(item.status) && variantsOf(item.profile).length > 0;
}

// Rows by upload id, kept while the file does not change: a refresh every POLL_MS must not
// reload thumbnails, sign their URLs again or disarm a Delete halfway through its two clicks.
const rows = new Map();

function renderFiles(items) {
  const body = $("#file-list");
  const trs = items.map((item) => {
    const version = `${item.status} ${item.updatedAt}`;
    let kept = rows.get(item.id);
    if (kept?.version === version) {
      $(".age", kept.tr).textContent = ago(item.createdAt);
    } else {
      kept = { tr: fileRow(item), version };
      rows.set(item.id, kept);
    }
    return kept.tr;
  });
  const listed = new Set(items.map((item) => item.id));
  for (const id of rows.keys()) if (!listed.has(id)) rows.delete(id);
  if (trs.length !== body.children.length || trs.some((tr, i) => body.children[i] !== tr)) {
    body.replaceChildren(...trs);
  }
  $("#files-empty").hidden = items.length > 0;
  $("#files-empty").textContent = "Nothing here yet.";
}

function fileRow(item) {
  const tr = document.createElement("tr");
  tr.dataset.id = item.id;
  tr.dataset.status = item.status;
  tr.dataset.name = item.fileName;
  const cell = (cls, text) => {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    if (text != null) td.textContent = text;
    tr.append(td);
    return td;
  };
  const name = cell("name");
  name.title = item.failureReason || item.fileName;
  name.append(fileName(item));
  cell("num", formatBytes(item.fileSize ?? NaN));
  const badge = document.createElement("span");
  badge.className = `badge ${item.status}`;
  badge.textContent = item.status;
  cell("status").append(badge);
  cell("age muted", ago(item.createdAt)).title = new Date(item.createdAt).toLocaleString();
  const actions = cell("actions");
  if (READABLE.has(item.status)) {
    const dl = button("Download", "ghost small download");
    dl.addEventListener("click", () => download(item, dl));
    actions.append(dl);
  }
  if (DELETABLE.has(item.status)) {
    const del = button("Delete", "ghost small danger delete");
    del.addEventListener("click", () => remove(item, del));
    actions.append(del);
  }
  return tr;
}

/** The name, with the file's thumbnail and its variants once made, or why it failed. */
function fileName(item) {
  const box = document.createElement("div");
  box.className = "file";
  const text = document.createElement("div");
  text.className = "text";
  const name = document.createElement("span");
  name.className = "fname";
  name.textContent = item.fileName;
  text.append(name);
  const made = item.status === "completed" && item.variants ? Object.keys(item.variants) : [];
  if (made.length) {
    box.append(thumbnail(item, made.includes("thumb") ? "thumb" : made[0]));
    text.append(variantLinks(item));
  } else if (awaitsVariants(item)) {
    const waiting = document.createElement("span");
    waiting.className = "thumb waiting";
    waiting.title = `Making ${variantsOf(item.profile).join(", ")}…`;
    box.append(waiting);
  }
  if (item.status === "failed" && item.failureReason) {
    const reason = document.createElement("span");
    reason.className = "reason";
    reason.textContent = item.failureReason;
    text.append(reason);
  }
  box.append(text);
  return box;
}

/** A public variant's own URL, else a signed GET for it (`GET /files/{id}/variants/{name}`). */
async function variantUrl(item, name) {
  const own = item.variants[name].url;
  if (own) return own;
  const { url } = await client.api("GET", `/files/${item.id}/variants/${encodeURIComponent(name)}`);
  return url;
}

function thumbnail(item, name) {
  const img = document.createElement("img");
  img.className = "thumb";
  img.alt = "";
  img.dataset.variant = name;
  img.addEventListener("error", () => { img.title = `The ${name} variant could not be loaded.`; });
  variantUrl(item, name).then(
    (url) => { img.src = url; },
    (err) => showError($("#files-error"), err),
  );
  return img;
}

function variantLinks(item) {
  const links = document.createElement("span");
  links.className = "variants";
  for (const [name, v] of Object.entries(item.variants)) {
    const a = document.createElement("a");
    a.className = "variant";
    a.dataset.variant = name;
    a.textContent = `${name} ${v.width}×${v.height}`;
    a.title = `${v.contentType}, ${formatBytes(v.size)}`;
    a.target = "_blank";
    a.rel = "noopener";
    if (v.url) {
      a.href = v.url;
    } else {
      a.href = "#";
      a.addEventListener("click", (e) => { e.preventDefault(); openVariant(item, name); });
    }
    links.append(a);
  }
  return links;
}

/** A private variant in a new tab: opened at the click (so it is not a blocked pop-up), sent
 * to its signed URL once the service has signed one. */
async function openVariant(item, name) {
  const tab = window.open("", "_blank");
  try {
    const url = await variantUrl(item, name);
    if (!tab) return;
    tab.opener = null;
    tab.location.href = url;
  } catch (err) {
    tab?.close();
    showError($("#files-error"), err);
  }
}

function button(text, cls) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = cls;
  b.textContent = text;
  return b;
}

async function download(item, btn) {
  btn.disabled = true;
  try {
    const { url } = await client.api("GET", `/files/${item.id}/download`);
    // The signed URL answers with Content-Disposition: attachment, so the page stays.
    location.assign(url);
  } catch (err) {
    showError($("#files-error"), err);
  } finally {
    btn.disabled = false;
  }
}

async function remove(item, btn) {
  // Two clicks, no dialog: the first arms the button for a few seconds.
  if (!btn.classList.contains("armed")) {
    btn.classList.add("armed");
    btn.textContent = "Confirm";
    setTimeout(() => { btn.classList.remove("armed"); btn.textContent = "Delete"; }, 4000);
    return;
  }
  btn.disabled = true;
  try {
    await client.api("DELETE", `/files/${item.id}`);
  } catch (err) {
    showError($("#files-error"), err);
  }
  refreshFiles();
}

$("#refresh").addEventListener("click", refreshFiles);
refreshFiles();
