// The event-photos page: sign in as a demo user, pick an event, see its photos, add some.
// Files are the s3upload service's business: the page calls it with the user's token, and
// the service asks this app's hook whether the user may. A refusal shown here is the hook's
// own sentence, passed on by the service.

const service = document.body.dataset.service;
const { S3UploadClient } = await import(`${service}/demo/static/s3upload.js`);

const $ = (selector) => document.querySelector(selector);
const state = {
  user: sessionStorage.getItem("event-photos:user"),
  token: sessionStorage.getItem("event-photos:token"),
  events: [],
  loads: 0,
  poll: 0,
};
// While a photo's thumbnail is being made, the list looks again this often.
const POLL_MS = 1500;
const WAITING = new Set(["uploaded", "processing"]);
// Cards by upload id, kept while their photo and the viewer stay the same, so a look again
// does not reload every image.
const cards = new Map();
// No resume across reloads (storage: null): one browser here plays several users.
const client = new S3UploadClient({ endpoint: service, token: () => state.token, storage: null });

function say(text, kind = "") {
  $("#message").textContent = text;
  $("#message").className = kind;
}

function currentEvent() {
  return state.events.find((e) => String(e.id) === $("#event").value);
}

async function start() {
  const { users, events } = await (await fetch("/api/demo")).json();
  state.events = events;
  for (const user of users) {
    const at = events.filter((e) => e.people[user]);
    const about = at.map((e) => (e.people[user] === "organiser" ? `organises ${e.name}` : e.name));
    $("#user").append(new Option(`${user} (${about.join(", ") || "no events"})`, user));
  }
  for (const event of events) $("#event").append(new Option(event.name, event.id));
  if (state.user) {
    $("#user").value = state.user;
    signedIn();
  }
}

async function signIn(user) {
  const resp = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ user }),
  });
  if (!resp.ok) return say(`Could not sign in as ${user}.`, "error");
  ({ user: state.user, token: state.token } = await resp.json());
  sessionStorage.setItem("event-photos:user", state.user);
  sessionStorage.setItem("event-photos:token", state.token);
  signedIn();
}

function signedIn() {
  $("#who").textContent = `Signed in as ${state.user}`;
  $("#add").reset();
  $("main").hidden = false;
  showPhotos();
}

/** The event's photos, as the service lists them to this user (any uploader). `again`: a
 * look again while thumbnails are being made, which leaves the message as it is. */
async function showPhotos({ again = false } = {}) {
  clearTimeout(state.poll);
  const event = currentEvent();
  const load = ++state.loads; // a later load (another event picked) wins
  const list = $("#photos");
  const people = Object.entries(event.people).map(([u, r]) => (r === "organiser" ? `${u} (organiser)` : u));
  $("#people").textContent = people.length ? `People: ${people.join(", ")}` : "Nobody attends yet.";
  if (!again) {
    list.dataset.state = "loading";
    say("");
  }
  let items, shown;
  try {
    ({ items } = await client.api("GET", `/files?scope=event/${event.id}&limit=100`));
    shown = await Promise.all(items.map((item) => keptCard(item, event)));
  } catch (err) {
    if (load !== state.loads) return;
    list.replaceChildren();
    list.dataset.state = "refused";
    return say(err.message, "error");
  }
  if (load !== state.loads) return;
  const listed = new Set(items.map((item) => item.id));
  for (const id of cards.keys()) if (!listed.has(id)) cards.delete(id);
  if (shown.length !== list.children.length || shown.some((li, i) => list.children[i] !== li)) {
    list.replaceChildren(...shown);
  }
  list.dataset.state = "loaded";
  if (!shown.length && !again) say(`No photos of ${event.name} yet.`);
  if (items.some((item) => WAITING.has(item.status))) {
    state.poll = setTimeout(() => showPhotos({ again: true }), POLL_MS);
  }
}

/** The card of a photo: the one already shown if nothing changed, else a new one. */
async function keptCard(item, event) {
  const version = `${item.status} ${item.updatedAt} ${state.user}`;
  const kept = cards.get(item.id);
  if (kept?.version === version) return kept.li;
  const li = await card(item, event);
  cards.set(item.id, { li, version });
  return li;
}

/** One photo: its thumbnail, which opens the large version, or the photo itself through a
 * signed download URL while they are being made; its title, text and uploader. */
async function card(item, event) {
  // The photos profile is public: its variants have URLs anyone may fetch (and cache).
  const thumb = item.variants?.thumb?.url;
  const large = item.variants?.large?.url ?? item.publicUrl;
  const src = thumb ?? (await client.api("GET", `/files/${item.id}/download?disposition=inline`)).url;
  const li = document.createElement("li");
  li.className = "photo";
  li.dataset.id = item.id;
  li.dataset.title = item.metadata.title ?? "";
  li.dataset.status = item.status;
  const img = document.createElement("img");
  img.src = src;
  img.alt = item.metadata.title ?? item.fileName;
  // A thumbnail that does not load (a CDN not there yet): the photo itself, also public.
  if (thumb && item.publicUrl) {
    img.addEventListener("error", () => { img.src = item.publicUrl; }, { once: true });
  }
  let picture = img;
  if (thumb && large) {
    picture = document.createElement("a");
    picture.href = large;
    picture.target = "_blank";
    picture.rel = "noopener";
    picture.append(img);
  }
  const text = document.createElement("div");
  const title = document.createElement("h3");
  title.textContent = item.metadata.title ?? item.fileName;
  const description = document.createElement("p");
  description.textContent = item.metadata.description ?? "";
  const by = document.createElement("small");
  by.textContent = `by ${item.owner}`;
  // The service decides (the hook allows organisers; owners may always remove their own);
  // the button is only shown where it would be allowed.
  if (item.owner === state.user || event.people[state.user] === "organiser") {
    const remove = document.createElement("button");
    remove.className = "delete";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => removePhoto(li, item));
    by.append(remove);
  }
  text.append(title, description, by);
  li.append(picture, text);
  return li;
}

async function removePhoto(li, item) {
  try {
    await client.api("DELETE", `/files/${item.id}`);
    li.remove();
    say(`Removed “${item.metadata.title ?? item.fileName}”.`, "ok");
  } catch (err) {
    say(err.message, "error");
  }
}

async function addPhoto() {
  const file = $("#file").files[0];
  const title = $("#title").value.trim();
  const description = $("#description").value.trim();
  const metadata = description ? { title, description } : { title };
  const progress = $("#progress");
  const upload = client.upload(file, {
    profile: "photos",
    scope: `event/${currentEvent().id}`,
    metadata,
  });
  progress.hidden = false;
  progress.value = 0;
  upload.addEventListener("progress", (e) => { progress.value = e.detail.loaded / (e.detail.total || 1); });
  say(`Adding “${title}”…`);
  try {
    await upload.done;
    $("#add").reset();
    await showPhotos();
    say(`Added “${title}”.`, "ok");
  } catch (err) {
    say(err.message, "error");
  } finally {
    progress.hidden = true;
  }
}

$("#login").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#user").value); });
$("#event").addEventListener("change", () => showPhotos());
$("#add").addEventListener("submit", (e) => { e.preventDefault(); addPhoto(); });
start();
