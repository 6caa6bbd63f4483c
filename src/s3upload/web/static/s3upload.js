// s3upload.js: a dependency-free browser client for the s3upload service.
//
//   import { S3UploadClient } from "https://uploads.example.com/demo/static/s3upload.js";
//   const client = new S3UploadClient({ token: () => myToken });
//   const upload = client.upload(file, { profile: "default" });
//   upload.addEventListener("progress", (e) => console.log(e.detail.loaded, e.detail.total));
//   const record = await upload.done;   // the service's upload object, status "uploaded"
//
// The bytes go straight to the object store through signed URLs; the service only signs
// and verifies. Big files go in parts, several at once; failed transfers are retried with
// exponential backoff, expired URLs are signed again, and an upload interrupted by a reload
// resumes when the same file is added again (its id is kept in localStorage).

const RETRY_STATUSES = new Set([0, 408, 429, 500, 502, 503, 504]);
// Browsers set these themselves and refuse scripts that try to.
const UNSAFE_HEADERS = new Set(["content-length", "host", "connection"]);
// A URL this close to its expiry is signed again before use (S3 checks expiry at the start).
const EXPIRY_MARGIN_MS = 60_000;
const STORAGE_PREFIX = "s3upload:v1:";
const FINAL = new Set(["uploaded", "aborted", "failed"]);

/** An error with the service's (or the store's) status, code and sentence. */
export class UploadError extends Error {
  constructor(message, { status = 0, code = "network_error", details = null, retryAfter = null } = {}) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
  get retryable() {
    return RETRY_STATUSES.has(this.status) && this.code !== "request_expired";
  }
}

function abortError() {
  return new DOMException("The upload was cancelled.", "AbortError");
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(abortError()); }, { once: true });
  });
}

/** Full-jitter exponential backoff: 0.5–1.5 × base × 2^attempt, at most 30 s. */
function backoff(attempt, base, retryAfter) {
  if (retryAfter != null) return retryAfter * 1000;
  return Math.min(30_000, base * 2 ** attempt) * (0.5 + Math.random());
}

/** When a SigV4 presigned URL stops working, in local time (from X-Amz-Expires). */
function urlDeadline(url, receivedAt) {
  const seconds = Number(new URL(url).searchParams.get("X-Amz-Expires"));
  // Counted from when we received it rather than X-Amz-Date, so a skewed clock does not matter.
  return seconds > 0 ? receivedAt + seconds * 1000 : Infinity;
}

/** A counting semaphore shared by every transfer of one client. */
class Limiter {
  constructor(slots) { this.free = slots; this.waiting = []; }
  async run(fn, signal) {
    if (this.free > 0) this.free--;
    else await new Promise((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener("abort", () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) { this.waiting.splice(i, 1); reject(abortError()); }
      }, { once: true });
    });
    try { return await fn(); }
    finally {
      const next = this.waiting.shift();
      if (next) next.resolve(); else this.free++;
    }
  }
}

/** The <Message> of an S3 XML error, or the start of the body. */
function storeMessage(text) {
  const m = /<Message>([^<]*)<\/Message>/.exec(text || "");
  return m ? m[1] : (text || "").slice(0, 200);
}

/**
 * One request with XHR (fetch cannot report upload progress). Resolves with the XHR on a 2xx
 * answer; rejects with an UploadError otherwise, code "request_expired" for an expired URL.
 */
function transfer({ method, url, headers, body, signal, onProgress }) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const xhr = new XMLHttpRequest();
    xhr.open(method, url, true);
    for (const [name, value] of Object.entries(headers || {})) {
      if (!UNSAFE_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = (fn) => { signal?.removeEventListener("abort", onAbort); fn(); };
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    xhr.onabort = () => done(() => reject(abortError()));
    xhr.onerror = () => done(() => reject(new UploadError("Network error while sending to the store.")));
    xhr.ontimeout = xhr.onerror;
    xhr.onload = () => done(() => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr);
      const text = xhr.responseText;
      // S3 answers an expired presigned URL with 403 AccessDenied "Request has expired".
      const expired = xhr.status === 403 && text.includes("Request has expired");
      reject(new UploadError(`The store refused the upload: ${storeMessage(text)}`, {
        status: xhr.status,
        code: expired ? "request_expired" : "store_error",
      }));
    });
    xhr.send(body);
  });
}

/**
 * The service client. Options:
 *   endpoint     the service's base URL (default: where this module was served from)
 *   token        a bearer token, or a function returning one (read before every request)
 *   concurrency  transfers at once across all uploads of this client (default 4)
 *   retries      attempts after the first, per request (default 5)
 *   retryDelay   base of the exponential backoff, ms (default 500)
 *   batchSize    part URLs asked for at once (default 50)
 *   storage      where resume state lives (default localStorage; null disables resume)
 * Events: "progress" {loaded, total} over all uploads not cancelled.
 */
export class S3UploadClient extends EventTarget {
  constructor({
    endpoint = new URL("../../", import.meta.url).href,
    token = null,
    concurrency = 4,
    retries = 5,
    retryDelay = 500,
    batchSize = 50,
    storage = globalThis.localStorage ?? null,
  } = {}) {
    super();
    this.endpoint = endpoint.replace(/\/+$/, "");
    this.token = token;
    this.retries = retries;
    this.retryDelay = retryDelay;
    this.batchSize = batchSize;
    this.storage = storage;
    this.limiter = new Limiter(Math.max(1, concurrency));
    this.concurrency = Math.max(1, concurrency);
    this.uploads = new Set();
  }

  /** Call the service; JSON in and out. Network errors and 502/503/504 are retried. */
  async api(method, path, body, { signal, retry = true } = {}) {
    for (let attempt = 0; ; attempt++) {
      let resp;
      try {
        const token = typeof this.token === "function" ? await this.token() : this.token;
        const headers = { Accept: "application/json" };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (body !== undefined) headers["Content-Type"] = "application/json";
        resp = await fetch(this.endpoint + path, {
          method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        if (err.name === "AbortError") throw err;
        resp = null;
      }
      if (resp?.ok) return resp.status === 204 ? null : resp.json();
      const error = resp ? await this.#error(resp) : new UploadError("The service cannot be reached.");
      // 429 is the caller's to show (the user asked for too much); the rest are transient.
      if (!retry || attempt >= this.retries || !error.retryable || error.status === 429) throw error;
      await sleep(backoff(attempt, this.retryDelay, error.retryAfter), signal);
    }
  }

  async #error(resp) {
    let body = {};
    try { body = await resp.json(); } catch { /* not JSON: a proxy's page */ }
    const retryAfter = Number(resp.headers.get("Retry-After")) || null;
    return new UploadError(body.message || `The service answered ${resp.status}.`, {
      status: resp.status, code: body.error || "http_error", details: body.details ?? null, retryAfter,
    });
  }

  /** Start uploading a File; answers an Upload (an EventTarget with a `done` promise). */
  upload(file, { profile = "default", metadata = {}, scope = null } = {}) {
    const upload = new Upload(this, file, { profile, metadata, scope });
    this.uploads.add(upload);
    upload.addEventListener("progress", () => this.#progress());
    upload.addEventListener("state", () => this.#progress());
    upload.start();
    return upload;
  }

  #progress() {
    let loaded = 0, total = 0;
    for (const u of this.uploads) {
      if (u.state === "aborted" || u.state === "failed") continue;
      loaded += u.loaded;
      total += u.total;
    }
    this.dispatchEvent(new CustomEvent("progress", { detail: { loaded, total } }));
  }

  /** The resume entry of a file: name, size and lastModified identify it across reloads. */
  resumeKey(file) {
    return `${STORAGE_PREFIX}${file.name}:${file.size}:${file.lastModified}`;
  }

  remembered(file) {
    try { return JSON.parse(this.storage?.getItem(this.resumeKey(file)) || "null"); }
    catch { return null; }
  }

  remember(file, entry) {
    try { this.storage?.setItem(this.resumeKey(file), JSON.stringify(entry)); }
    catch { /* storage full or disabled: the upload works, it just cannot resume */ }
  }

  forget(file) {
    try { this.storage?.removeItem(this.resumeKey(file)); } catch { /* see remember */ }
  }
}

/**
 * One file's upload. Properties: file, id, record (the service's upload object), state
 * ("queued", "creating", "uploading", "completing", "uploaded", "cancelling", "aborted",
 * "failed"), loaded, total, error, partCount, resumedParts. Events: "state", "progress" {loaded, total}.
 */
export class Upload extends EventTarget {
  constructor(client, file, { profile, metadata, scope }) {
    super();
    this.client = client;
    this.file = file;
    this.profile = profile;
    this.metadata = metadata;
    this.scope = scope ?? null;
    this.id = null;
    this.record = null;
    this.state = "queued";
    this.error = null;
    this.total = file.size;
    this.loaded = 0;
    this.resumedParts = 0;
    this.partCount = null; // multipart only
    this.controller = new AbortController();
    this.cancelled = false;
    this.done = new Promise((resolve, reject) => { this._resolve = resolve; this._reject = reject; });
    this.done.catch(() => {}); // callers that only listen to events must not see an unhandled rejection
    this.partLoaded = new Map(); // part number -> bytes sent of its current attempt
    this.baseLoaded = 0; // bytes of finished parts
  }

  start() {
    this.#run().then(this._resolve, this._reject);
  }

  /** Abort every transfer, then cancel the upload in the service (DELETE /uploads/{id}). */
  cancel() {
    if (FINAL.has(this.state) || this.cancelled) return this.done.catch(() => null);
    this.cancelled = true;
    this.#setState("cancelling");
    this.controller.abort();
    return this.done.catch(() => null);
  }

  #setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
  }

  #progress() {
    let inflight = 0;
    for (const n of this.partLoaded.values()) inflight += n;
    this.loaded = Math.min(this.total, this.baseLoaded + inflight);
    this.dispatchEvent(new CustomEvent("progress", { detail: { loaded: this.loaded, total: this.total } }));
  }

  async #run() {
    const { client, file } = this;
    const signal = this.controller.signal;
    try {
      this.#setState("creating");
      let record = await this.#resume(signal);
      if (!record) {
        record = await client.api("POST", "/uploads", {
          fileName: file.name,
          fileType: file.type || "application/octet-stream",
          fileSize: file.size,
          profile: this.profile,
          metadata: this.metadata,
          ...(this.scope ? { scope: this.scope } : {}),
        });
        // The create is not aborted midway (the record might exist without us knowing its
        // id); a cancel that came meanwhile takes effect now, with the id to cancel.
        this.id = record.id;
        client.remember(file, { id: record.id, createdAt: Date.now() });
        if (this.cancelled) throw abortError();
      }
      this.record = record;
      if (record.status === "pending") {
        this.#setState("uploading");
        if (record.strategy === "multipart") await this.#multipart(record, signal);
        else await this.#single(record, signal);
        this.#setState("completing");
        record = await client.api("POST", `/uploads/${record.id}/complete`, undefined, { signal });
      }
      this.record = record;
      client.forget(file);
      if (record.status !== "uploaded") {
        throw new UploadError(record.failureReason || `The upload ended ${record.status}.`, {
          status: 409, code: "not_uploaded",
        });
      }
      this.baseLoaded = this.total;
      this.partLoaded.clear();
      this.#progress();
      this.#setState("uploaded");
      return record;
    } catch (err) {
      if (this.cancelled) return this.#cancelInService();
      this.error = err instanceof UploadError ? err : new UploadError(String(err?.message || err));
      // Transient failures keep the resume entry: adding the file again continues it.
      if (!this.error.retryable) client.forget(file);
      this.#setState("failed");
      throw this.error;
    }
  }

  /** A pending upload of this same file from before a reload, if the service still has it. */
  async #resume(signal) {
    const entry = this.client.remembered(this.file);
    if (!entry?.id) return null;
    let record;
    try {
      record = await this.client.api("GET", `/uploads/${encodeURIComponent(entry.id)}`, undefined, { signal });
    } catch (err) {
      if (err.name === "AbortError" || err.retryable) throw err;
      record = null; // 404 (another owner, or gone): start afresh
    }
    if (!record || !["pending", "uploaded"].includes(record.status) || record.fileSize !== this.file.size) {
      this.client.forget(this.file);
      return null;
    }
    this.id = record.id;
    this.resumed = true;
    return record;
  }

  /** One request: a PUT with exactly the signed headers, or an HTML-form POST. */
  async #single(record, signal) {
    const { client, file } = this;
    let target = record.single;
    let receivedAt = Date.now();
    let resigned = 0;
    for (let attempt = 0; ; ) {
      if (Date.now() > urlDeadline(target.url, receivedAt) - EXPIRY_MARGIN_MS) {
        ({ target, receivedAt } = await this.#freshSingle(signal));
      }
      try {
        await client.limiter.run(() => {
          let body = file;
          if (target.method === "POST") {
            // The policy's fields first, the file last, as S3 requires.
            body = new FormData();
            for (const [k, v] of Object.entries(target.fields || {})) body.append(k, v);
            body.append("file", file);
          }
          return transfer({
            method: target.method, url: target.url, headers: target.headers, body, signal,
            onProgress: (n) => { this.partLoaded.set(1, n); this.#progress(); },
          });
        }, signal);
        this.partLoaded.delete(1);
        this.baseLoaded = file.size;
        this.#progress();
        return;
      } catch (err) {
        this.partLoaded.set(1, 0);
        this.#progress();
        if (err.status === 412 && target.method === "PUT") {
          // The URL is write-once and the object is there: an earlier attempt whose answer
          // was lost. Completing verifies that it holds this file.
          this.baseLoaded = file.size;
          this.#progress();
          return;
        }
        if (err.code === "request_expired" && resigned++ < 3) {
          ({ target, receivedAt } = await this.#freshSingle(signal));
          continue;
        }
        if (!err.retryable || attempt >= client.retries) throw err;
        await sleep(backoff(attempt++, client.retryDelay), signal);
      }
    }
  }

  async #freshSingle(signal) {
    const record = await this.client.api("GET", `/uploads/${this.id}`, undefined, { signal });
    if (record.status !== "pending" || !record.single) {
      throw new UploadError(`The upload is ${record.status}.`, { status: 409, code: "conflict" });
    }
    return { target: record.single, receivedAt: Date.now() };
  }

  /** Every part not already in the store, `concurrency` at a time, then complete. */
  async #multipart(record, signal) {
    const { partSize, partCount } = record.multipart;
    this.partCount = partCount;
    this.#setState("uploading"); // again, now that the part count is known
    const sizeOf = (n) => Math.min(partSize, this.file.size - (n - 1) * partSize);
    const stored = new Set();
    for (const p of record.uploadedParts || []) {
      // A part of the wrong size (another file?) is sent again; the store keeps the last one.
      if (p.size === sizeOf(p.partNumber)) stored.add(p.partNumber);
    }
    this.resumedParts = stored.size;
    for (const n of stored) this.baseLoaded += sizeOf(n);
    this.#progress();

    this.targets = new Map(); // part number -> {url, headers, deadline}
    this.signing = new Map(); // part number -> promise of the batch that signs it
    const now = Date.now();
    for (const p of record.multipart.parts || []) {
      this.targets.set(p.partNumber, { ...p, deadline: urlDeadline(p.url, now) });
    }
    const queue = [];
    for (let n = 1; n <= partCount; n++) if (!stored.has(n)) queue.push(n);
    this.queue = queue;

    // One failed part fails the upload: the others' transfers stop too.
    const inner = new AbortController();
    const stop = () => inner.abort();
    signal.addEventListener("abort", stop, { once: true });
    const worker = async () => {
      while (queue.length) {
        const n = queue.shift();
        await this.#part(n, sizeOf(n), inner.signal);
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.client.concurrency, queue.length) }, worker));
    } catch (err) {
      queue.length = 0;
      stop();
      throw err;
    } finally {
      signal.removeEventListener("abort", stop);
    }
  }

  async #part(n, size, signal) {
    const { client, file } = this;
    const start = (n - 1) * this.record.multipart.partSize;
    const body = file.slice(start, start + size);
    let resigned = 0;
    for (let attempt = 0; ; ) {
      const target = await this.#partTarget(n, signal);
      try {
        await client.limiter.run(() => transfer({
          method: "PUT", url: target.url, headers: target.headers, body, signal,
          onProgress: (loaded) => { this.partLoaded.set(n, loaded); this.#progress(); },
        }), signal);
        this.partLoaded.delete(n);
        this.baseLoaded += size;
        this.#progress();
        return;
      } catch (err) {
        this.partLoaded.delete(n);
        this.#progress();
        if (err.code === "request_expired" && resigned++ < 3) {
          this.targets.delete(n);
          continue;
        }
        if (!err.retryable || attempt >= client.retries) throw err;
        await sleep(backoff(attempt++, client.retryDelay), signal);
      }
    }
  }

  /** The signed URL of part n: cached, or signed in a batch with the next parts in line. */
  async #partTarget(n, signal) {
    const cached = this.targets.get(n);
    if (cached && Date.now() < cached.deadline - EXPIRY_MARGIN_MS) return cached;
    if (!this.signing.has(n)) {
      const numbers = [n];
      for (const m of this.queue) {
        if (numbers.length >= this.client.batchSize) break;
        const t = this.targets.get(m);
        if (!this.signing.has(m) && !(t && Date.now() < t.deadline - EXPIRY_MARGIN_MS)) numbers.push(m);
      }
      const batch = this.client.api("POST", `/uploads/${this.id}/parts`, { partNumbers: numbers }, { signal })
        .then((resp) => {
          const receivedAt = Date.now();
          for (const p of resp.parts) {
            this.targets.set(p.partNumber, { ...p, deadline: urlDeadline(p.url, receivedAt) });
          }
        })
        .finally(() => { for (const m of numbers) this.signing.delete(m); });
      for (const m of numbers) this.signing.set(m, batch);
    }
    await this.signing.get(n);
    return this.targets.get(n);
  }

  async #cancelInService() {
    this.partLoaded.clear();
    try {
      if (this.id) {
        // Not tied to the aborted signal: this request must go out.
        await this.client.api("DELETE", `/uploads/${this.id}`);
      }
    } catch (err) {
      if (err.status !== 409) {
        this.error = err;
        this.#setState("failed");
        throw err;
      }
      // 409: it was no longer pending (the complete won the race); show what it is now.
      this.record = await this.client.api("GET", `/uploads/${this.id}`);
    }
    this.client.forget(this.file);
    if (this.record?.status === "uploaded") {
      this.baseLoaded = this.total;
      this.#progress();
      this.#setState("uploaded");
      return this.record;
    }
    this.#setState("aborted");
    return this.record;
  }
}
