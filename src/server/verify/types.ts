import type { IncomingHttpHeaders } from 'node:http';

/** `workflow.config.verification`: a `type` and the fields of that type (see SPEC.md). */
export type VerificationConfig = { type: string; [field: string]: unknown };

/** What a scheme may read of a request besides the headers and raw bytes. */
export interface SenderRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** URL query parameters, decoded (a repeated name gives a list). */
  query: Record<string, string | string[] | undefined>;
  /** The query string as received, without `?` (Twilio signs the URL it called). */
  querystring: string;
  /** The URL as this app sees it (`{protocol}://{host}{path}?{query}`), for templates with `{url}`. */
  url: string;
  raw: Buffer;
  nowSeconds: number;
  /** The decrypted event, for the handshake of a scheme that decrypts (DingTalk's check_url). */
  data?: unknown;
}

/** One verification scheme: returns when the request is authentic, throws a `WebhookError` otherwise. */
export type Verifier = (
  config: VerificationConfig,
  headers: IncomingHttpHeaders,
  raw: Buffer,
  nowSeconds: number,
  request: SenderRequest,
) => void;

/** An answer the plugin sends itself (a handshake, a sender's fixed acknowledgement). */
export interface SenderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  json?: boolean;
}

/** A handshake step: the answer when the request is the sender's handshake, else null. */
export type Handshake = (config: VerificationConfig, request: SenderRequest) => SenderAnswer | null;
/** A test request from the admin UI, as the signer sees it before it is signed. */
export interface SignContext {
  method: string;
  /** The headers the admin gave (lower-case names), with the content type the request is sent with. */
  headers: Record<string, string>;
  /** The query string the admin gave, without `?` (the signer's own parameters are added after it). */
  querystring: string;
  /** `{protocol}://{host}{path}`: the URL as this app will see it, without the query. */
  url: string;
}

/** What a signer adds to a test request: headers, query parameters (after the admin's), a new body. */
export interface Signed {
  headers: Record<string, string>;
  query?: Record<string, string>;
  /** The body as the sender sends it (an envelope around the admin's message, the credential inside). */
  body?: Buffer;
}

/** Signs a request as the scheme's sender would: the headers to add (a test request from the admin UI). */
export type Signer = (config: VerificationConfig, raw: Buffer, nowSeconds: number) => Record<string, string>;

/** Signs a request as the scheme's sender would, when the sender also sets the query or wraps the body. */
export type RequestSigner = (
  config: VerificationConfig,
  raw: Buffer,
  nowSeconds: number,
  context: SignContext,
) => Signed;

/**
 * The request a sender sends for its handshake (the URL check), before the scheme's signer signs
 * it: the admin can try the handshake from the test request dialog.
 */
export interface HandshakeTrial {
  method?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
}
export type HandshakeTrialMaker = (config: VerificationConfig) => HandshakeTrial;
