// The declarations against the implementation: every declared export, member and option
// exists in s3upload.js, and each declared type fits what TypeScript infers from the code.
// (Declared types may be narrower: the code says `state = "queued"`, inferred as string.)
import type * as decl from "s3upload";
import * as impl from "./impl/s3upload.js";

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Per member of D: true, "missing" from I, or the two types that do not fit. */
type Check<D, I, NameOnly extends keyof D = never> = {
  [K in keyof D]-?: K extends keyof I
    ? K extends NameOnly
      ? true
      : D[K] extends I[K]
        ? true
        : ["does not fit", D[K], I[K]]
    : "missing";
};
/** Only the members that failed; `{}` must be assignable to it. */
type Failures<T> = { [K in keyof T as T[K] extends true ? never : K]: T[K] };

type ImplClientOptions = NonNullable<ConstructorParameters<typeof impl.S3UploadClient>[0]>;
type ImplUploadOptions = NonNullable<Parameters<impl.S3UploadClient["upload"]>[1]>;
type ImplErrorOptions = NonNullable<ConstructorParameters<typeof impl.UploadError>[1]>;

export const sameExports: Exact<keyof typeof decl, keyof typeof impl> = true;

// Compared by name only: `storage` is inferred as Storage from its localStorage default (any
// getItem/setItem/removeItem object works), `upload` returns an Upload, whose private fields
// make the implementation's class nominal (Upload is checked on its own below).
export const client: Failures<
  Check<decl.S3UploadClient, impl.S3UploadClient, "storage" | "upload">
> = {};
export const upload: Failures<Check<decl.Upload, impl.Upload>> = {};
export const error: Failures<Check<decl.UploadError, impl.UploadError>> = {};
// `token` and `storage`, `details` and `retryAfter` default to null: inferred as null alone.
export const clientOptions: Failures<
  Check<decl.S3UploadClientOptions, ImplClientOptions, "token" | "storage">
> = {};
// `scope` defaults to null: inferred as null alone.
export const uploadOptions: Failures<Check<decl.UploadOptions, ImplUploadOptions, "scope">> = {};
export const errorOptions: Failures<
  Check<decl.UploadErrorOptions, ImplErrorOptions, "details" | "retryAfter">
> = {};
