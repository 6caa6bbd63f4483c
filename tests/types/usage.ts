// The browser client used as an application would use it; compiled with `tsc --noEmit`.
import {
  S3UploadClient,
  UploadError,
  type ProgressDetail,
  type Upload,
  type UploadErrorCode,
  type UploadRecord,
  type UploadState,
} from "s3upload";

const client = new S3UploadClient({
  endpoint: "https://uploads.example.com",
  token: async () => sessionStorage.getItem("token"),
  concurrency: 6,
  retries: 3,
  retryDelay: 250,
  batchSize: 100,
  storage: sessionStorage,
});
new S3UploadClient(); // every option has a default
new S3UploadClient({ token: "static-token", storage: null }); // no resuming

client.addEventListener("progress", (event) => {
  const { loaded, total }: ProgressDetail = event.detail;
  document.title = `${Math.round((100 * loaded) / Math.max(total, 1))} %`;
});

function describe(err: unknown): string {
  if (!(err instanceof UploadError)) return String(err);
  const code: UploadErrorCode = err.code;
  switch (code) {
    case "file_too_large":
    case "unsupported_file_type":
      return `Not accepted: ${err.message}`;
    case "rate_limited":
    case "quota_exceeded":
      return `Try again in ${err.retryAfter ?? 60} s`;
    case "network_error":
      return err.retryable ? "Offline? Add the file again to resume." : err.message;
    case "store_error":
    case "request_expired":
      return `The store refused it (${err.status})`;
    default:
      return `${err.status} ${code}: ${err.message}`;
  }
}

async function send(file: File): Promise<UploadRecord | null> {
  const upload: Upload = client.upload(file, {
    profile: "images",
    metadata: { title: file.name },
  });
  upload.addEventListener("state", (event) => {
    const state: UploadState = event.detail.state;
    if (state === "uploading" && upload.partCount !== null) {
      console.log(`${upload.partCount} parts, ${upload.resumedParts} already stored`);
    }
  });
  upload.addEventListener("progress", function (event) {
    const bar = document.querySelector("progress");
    if (bar) bar.value = event.detail.loaded / event.detail.total;
    console.log(this.file.name, this.loaded, this.total, this.state);
  });
  try {
    const record = await upload.done;
    if (record) console.log(record.id, record.key, record.status, record.fileSize ?? "unknown");
    return record;
  } catch (err) {
    console.error(describe(err), upload.error?.code);
    return null;
  }
}

async function cancelAll(): Promise<void> {
  for (const upload of client.uploads) {
    const record = await upload.cancel();
    console.log(upload.id, upload.state, record?.status);
  }
}

async function myFiles(): Promise<UploadRecord[]> {
  const page = await client.api<{ items: UploadRecord[]; nextCursor: string | null }>(
    "GET",
    "/files?limit=20",
    undefined,
    { retry: false },
  );
  return page.items.filter((item) => item.strategy === "multipart" && item.multipart !== null);
}

const picker = document.querySelector<HTMLInputElement>("input[type=file]");
picker?.addEventListener("change", () => {
  for (const file of picker.files ?? []) {
    const entry = client.remembered(file);
    if (entry) console.log(`resuming ${entry.id} from ${new Date(entry.createdAt).toISOString()}`);
    void send(file);
  }
});

export { cancelAll, myFiles, send };
