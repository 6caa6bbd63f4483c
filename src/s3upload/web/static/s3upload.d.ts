// Type declarations of s3upload.js, the browser client of the s3upload service.
//
//   import { S3UploadClient, UploadError } from "./s3upload.js";
//   const client = new S3UploadClient({ token: () => myToken });
//   const upload = client.upload(file, { profile: "default" });
//   upload.addEventListener("progress", (e) => show(e.detail.loaded, e.detail.total));
//   const record = await upload.done; // status "uploaded"; null only if cancelled early

// --- the service's objects (camelCase JSON) ---------------------------------------------------

/** Every status an upload can have in the service. */
export type UploadStatus =
  | "pending"
  | "uploaded"
  | "processing"
  | "completed"
  | "failed"
  | "aborted"
  | "expired"
  | "deleted";

/** A checksum of the whole file, base64 of the raw digest. */
export interface Checksum {
  algorithm: "MD5" | "SHA256" | "SHA1" | "CRC32" | "CRC32C";
  value: string;
}

/** Where and how to send the bytes of a single-part upload in one request. */
export interface SingleTarget {
  method: "PUT" | "POST";
  url: string;
  /** PUT: send exactly these headers. */
  headers: Record<string, string> | null;
  /** POST: form fields to send before the `file` field. */
  fields: Record<string, string> | null;
}

/** A signed URL of one part and the headers to send with it. */
export interface PartTarget {
  partNumber: number;
  url: string;
  headers: Record<string, string>;
}

/** The part plan of a multipart upload, with the first signed part URLs. */
export interface MultipartPlan {
  /** Every part but the last has exactly this size. */
  partSize: number;
  partCount: number;
  parts: PartTarget[];
}

/** A part the store already holds (listed while a multipart upload is pending). */
export interface UploadedPart {
  partNumber: number;
  size: number;
  etag: string;
}

/** An upload as the service knows it (`POST /uploads`, `GET /uploads/{id}`, complete). */
export interface UploadRecord {
  id: string;
  key: string;
  fileName: string;
  fileType: string;
  /** Null until verified if none was declared. */
  fileSize: number | null;
  status: UploadStatus;
  strategy: "single" | "multipart";
  profile: string;
  metadata: Record<string, string>;
  /** What the file belongs to (`event/1234`), or null. */
  scope: string | null;
  /** The uploader's subject. */
  owner: string;
  /** Whether the application claimed it (profiles with `claim_within`). */
  claimed: boolean;
  /** When an unclaimed finished file is removed; null when nothing needs claiming. */
  claimDeadline: string | null;
  checksum: Checksum | null;
  failureReason: string | null;
  /** ISO 8601 timestamps. */
  createdAt: string;
  updatedAt: string;
  /** End of the upload window. */
  expiresAt: string;
  uploadedAt: string | null;
  /** The signed target, while a single upload is pending. */
  single: SingleTarget | null;
  /** Part plan and signed part URLs of a multipart upload. */
  multipart: MultipartPlan | null;
  /** Parts already in the store, while a multipart upload is pending. */
  uploadedParts: UploadedPart[] | null;
}

// --- errors -----------------------------------------------------------------------------------

/** Codes the browser client gives itself (nothing, or something unreadable, came back). */
export type ClientErrorCode =
  /** The service or the store could not be reached (status 0). */
  | "network_error"
  /** The store refused a signed URL as expired; it is signed again. */
  | "request_expired"
  /** The store refused a transfer (the message is the store's). */
  | "store_error"
  /** The service answered an error without its JSON body (a proxy's page). */
  | "http_error"
  /** Completed, but the upload ended in another status than `uploaded` (status 409). */
  | "not_uploaded"
  /** A fresh single-part URL was asked for an upload no longer pending (status 409). */
  | "conflict";

/** The `error` codes of the service's JSON error bodies. */
export type ServiceErrorCode =
  | "bad_request"
  | "invalid_json"
  | "invalid_event"
  | "unauthorized"
  | "missing_token"
  | "invalid_token"
  | "token_expired"
  | "jwks_unavailable"
  | "forbidden"
  | "role_required"
  | "events_disabled"
  | "invalid_event_secret"
  | "invalid_signature"
  | "unknown_topic"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "invalid_transition"
  | "not_downloadable"
  | "not_multipart"
  | "object_missing"
  | "parts_missing"
  | "part_outside_plan"
  | "parts_rejected"
  | "file_too_large"
  | "over_daily_quota"
  | "body_too_large"
  | "unsupported_file_type"
  | "unsupported_media_type"
  | "validation_error"
  | "size_required"
  | "unsupported_checksum"
  | "invalid_checksum"
  | "invalid_parts"
  | "part_size_mismatch"
  | "status_not_settable"
  | "unknown_profile"
  | "invalid_metadata"
  | "invalid_scope"
  | "metadata_required"
  | "verification_failed"
  | "rate_limited"
  | "quota_exceeded"
  | "object_store_error"
  | "sns_certificate"
  | "sns_confirm"
  | "object_store_unavailable"
  | "authorization_unavailable"
  | "database_unavailable";

export type UploadErrorCode = ClientErrorCode | ServiceErrorCode;

export interface UploadErrorOptions {
  /** HTTP status; 0 when nothing answered (default). */
  status?: number;
  /** Default "network_error". */
  code?: UploadErrorCode;
  /** The service's `details` (which fields, which parts...), else null. */
  details?: unknown;
  /** Seconds from a `Retry-After` header, else null. */
  retryAfter?: number | null;
}

/** An error with the service's (or the store's) status, code and sentence. */
export class UploadError extends Error {
  constructor(message: string, options?: UploadErrorOptions);
  name: "UploadError";
  /** HTTP status; 0 when nothing answered. */
  status: number;
  code: UploadErrorCode;
  details: unknown;
  /** Seconds the service asked to wait (`Retry-After`), or null. */
  retryAfter: number | null;
  /** Whether trying again may succeed: status 0, 408, 429, 500, 502, 503 or 504, not expired. */
  readonly retryable: boolean;
}

// --- events -----------------------------------------------------------------------------------

/** `detail` of a "progress" event: bytes stored (or on their way) out of the total. */
export interface ProgressDetail {
  loaded: number;
  total: number;
}

/** Where an upload is in its life. */
export type UploadState =
  | "queued"
  | "creating"
  | "uploading"
  | "completing"
  | "uploaded"
  | "cancelling"
  | "aborted"
  | "failed";

/** `detail` of a "state" event. */
export interface StateDetail {
  state: UploadState;
}

export interface S3UploadClientEventMap {
  /** Over every upload of the client that was not cancelled and did not fail. */
  progress: CustomEvent<ProgressDetail>;
}

export interface UploadEventMap {
  progress: CustomEvent<ProgressDetail>;
  state: CustomEvent<StateDetail>;
}

// --- the client -------------------------------------------------------------------------------

/** A bearer token, or a function giving one (called before every request). */
export type TokenSource = string | null | (() => string | null | Promise<string | null>);

/** Where resume entries live: `localStorage`, `sessionStorage`, or anything alike. */
export type ResumeStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** What is remembered of an upload, to resume it after a reload. */
export interface ResumeEntry {
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

export interface S3UploadClientOptions {
  /** The service's base URL (default: where s3upload.js was served from). */
  endpoint?: string;
  token?: TokenSource;
  /** Transfers at once across all uploads of this client (default 4). */
  concurrency?: number;
  /** Attempts after the first, per request (default 5). */
  retries?: number;
  /** Base of the exponential backoff, in milliseconds (default 500). */
  retryDelay?: number;
  /** Part URLs asked for at once (default 50). */
  batchSize?: number;
  /** Where resume state lives (default `localStorage`; null turns resuming off). */
  storage?: ResumeStorage | null;
}

export interface UploadOptions {
  /** The upload profile (default "default"). */
  profile?: string;
  /** Object metadata, stored as `x-amz-meta-*`. */
  metadata?: Record<string, string>;
  /** What the file belongs to, `<type>/<id>` (e.g. `event/1234`); see the profile's `scopeTypes`. */
  scope?: string | null;
}

export interface ApiOptions {
  signal?: AbortSignal;
  /** Retry network errors and 408, 500, 502, 503, 504 answers (default true). */
  retry?: boolean;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

type Listener<E, This> = ((this: This, event: E) => unknown) | { handleEvent(event: E): unknown };

/** The service client: starts uploads and reports their combined progress. */
export class S3UploadClient extends EventTarget {
  constructor(options?: S3UploadClientOptions);
  /** The base URL, without a trailing slash. */
  endpoint: string;
  token: TokenSource;
  concurrency: number;
  retries: number;
  retryDelay: number;
  batchSize: number;
  storage: ResumeStorage | null;
  /** Every upload started by this client. */
  uploads: Set<Upload>;

  /** Start uploading a file. */
  upload(file: File, options?: UploadOptions): Upload;
  /** Call the service; JSON in and out (null for 204). Rejects with an UploadError. */
  api<T = unknown>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    options?: ApiOptions,
  ): Promise<T>;
  /** The storage key of a file's resume entry (name, size and lastModified). */
  resumeKey(file: File): string;
  /** The resume entry of a file, if one is kept and readable. */
  remembered(file: File): ResumeEntry | null;
  remember(file: File, entry: ResumeEntry): void;
  forget(file: File): void;

  addEventListener<K extends keyof S3UploadClientEventMap>(
    type: K,
    listener: Listener<S3UploadClientEventMap[K], S3UploadClient> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof S3UploadClientEventMap>(
    type: K,
    listener: Listener<S3UploadClientEventMap[K], S3UploadClient> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** One file's upload; made by `S3UploadClient.upload`, which also starts it. */
export class Upload extends EventTarget {
  constructor(
    client: S3UploadClient,
    file: File,
    options: { profile: string; metadata: Record<string, string>; scope?: string | null },
  );
  client: S3UploadClient;
  file: File;
  profile: string;
  metadata: Record<string, string>;
  scope: string | null;
  /** The service's id, once created (or found again to resume). */
  id: string | null;
  /** The service's upload object, once known; the final one when done. */
  record: UploadRecord | null;
  state: UploadState;
  /** Why the upload failed, in state "failed". */
  error: UploadError | null;
  /** Bytes stored (or on their way), and the file's size. */
  loaded: number;
  total: number;
  /** Multipart only: how many parts, and how many were already stored on resume. */
  partCount: number | null;
  resumedParts: number;
  /** True when an earlier upload of this file (before a reload) was continued. */
  resumed?: boolean;
  /** Whether `cancel()` was called. */
  cancelled: boolean;
  /**
   * The record once uploaded. After `cancel()` it resolves instead, with the last record
   * known (null if the upload was not created yet). Rejects with an UploadError.
   */
  done: Promise<UploadRecord | null>;

  /** Begin (called by `S3UploadClient.upload`). */
  start(): void;
  /** Abort the transfers and cancel the upload in the service; resolves like `done` (null
   * if the upload had already failed). */
  cancel(): Promise<UploadRecord | null>;

  addEventListener<K extends keyof UploadEventMap>(
    type: K,
    listener: Listener<UploadEventMap[K], Upload> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof UploadEventMap>(
    type: K,
    listener: Listener<UploadEventMap[K], Upload> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}
