import type { IncomingHttpHeaders } from 'node:http';

/** `workflow.config.verification`: a `type` and the fields of that type (see SPEC.md). */
export type VerificationConfig = { type: string; [field: string]: unknown };

/** One verification scheme: returns when the request is authentic, throws a `WebhookError` otherwise. */
export type Verifier = (
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
) => void;

/** Signs a request as the scheme's sender would: the headers to add (a test request from the admin UI). */
export type Signer = (config: VerificationConfig, raw: Buffer, nowSeconds: number) => Record<string, string>;
