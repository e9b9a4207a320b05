/** An HTTP answer: what the route sends (a rejection, a receipt, what a workflow built). */
export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Send the body as JSON even when it is a string (the Output node's value). */
  json?: boolean;
}

/** The error codes of SPEC.md, with the HTTP status each one carries. */
export const ERROR_STATUS = {
  INVALID_BODY: 400,
  UNAUTHORIZED: 401,
  SIGNATURE_INVALID: 401,
  TIMESTAMP_OUT_OF_TOLERANCE: 401,
  IP_FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  SCHEMA_VALIDATION_FAILED: 422,
  RATE_LIMITED: 429,
  WORKFLOW_FAILED: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One typed HTTP error; the route turns it into `{"error": {"code", "message"}}`. */
export class WebhookError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { details?: unknown; headers?: Record<string, string>; status?: number } = {},
  ) {
    // An answer, not a bug: no stack trace (recording one cost a sixth of a rejection's time).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'WebhookError';
    // A sender may expect another status for the same code (Meta: a wrong verify token is 403).
    this.status = extra.status ?? ERROR_STATUS[code];
  }

  toBody(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    const error: { code: ErrorCode; message: string; details?: unknown } = {
      code: this.code,
      message: this.message,
    };
    if (this.extra.details !== undefined) error.details = this.extra.details;
    return { error };
  }
}

/** Refusals kept by `refusal`, by code and message; bounded, since messages may name configured things. */
const refusals = new Map<string, WebhookError>();
const MAX_REFUSALS = 512;

/**
 * The same refusal as last time (code and message, no extra): one shared instance, since a
 * WebhookError is never changed once thrown. Building an Error costs ~3 µs once SES has locked the
 * intrinsics down, as NocoBase's Gateway does in production, which is a tenth of an unknown-key
 * 404; the refusals a flood repeats (unknown key, IP, signature, token) reuse theirs.
 */
export function refusal(code: ErrorCode, message: string): WebhookError {
  const key = `${code} ${message}`;
  let error = refusals.get(key);
  if (!error) {
    error = new WebhookError(code, message);
    if (refusals.size < MAX_REFUSALS) refusals.set(key, error);
  }
  return error;
}

/** The answer a rejected or failed request gets, in SPEC.md's error shape. */
export function errorAnswer(error: WebhookError): HttpAnswer {
  return { status: error.status, headers: error.extra.headers, body: error.toBody(), json: true };
}
