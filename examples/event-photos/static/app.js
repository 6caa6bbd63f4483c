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
};
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

/** The event's photos, as the service lists them to this user (any uploader). */
async function showPhotos() {
  const event = currentEvent();
  const load = ++state.loads; // a later load (another event picked) wins
  const list = $("#photos");
  const people = Object.entries(event.people).map(([u, r]) => (r === "organiser" ? `${u} (organiser)` : u));
  $("#people").textContent = people.length ? `People: ${people.join(", ")}` : "Nobody attends yet.";
  list.dataset.state = "loading";
  say("");
  let cards;
  try {
    const { items } = await client.api("GET", `/files?scope=event/${event.id}&limit=100`);
    cards = await Promise.all(items.map((item) => card(item, event)));
  } catch (err) {
    if (load !== state.loads) return;
    list.replaceChildren();
    list.dataset.state = "refused";
    return say(err.message, "error");
  }
  if (load !== state.loads) return;
  list.replaceChildren(...cards);
  list.dataset.state = "loaded";
  if (!cards.length) say(`No photos of ${event.name} yet.`);
}

/** One photo: the image through a signed download URL, its title, text and uploader. */
async function card(item, event) {
  const { url } = await client.api("GET", `/files/${item.id}/download?disposition=inline`);
  const li = document.createElement("li");
  li.className = "photo";
  li.dataset.id = item.id;
  li.dataset.title = item.metadata.title ?? "";
  const img = document.createElement("img");
  img.src = url;
  img.alt = item.metadata.title ?? item.fileName;
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
  li.append(img, text);
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
$("#event").addEventListener("change", showPhotos);
$("#add").addEventListener("submit", (e) => { e.preventDefault(); addPhoto(); });
start();
