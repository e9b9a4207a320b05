/**
 * Names and defaults shared by the server (src/server) and the admin UI (src/client). Nothing
 * here may need Node: the client bundle (scripts/build-client.mjs) includes this folder.
 */

/** Trigger type registered with the workflow engine. */
export const TRIGGER_TYPE = 'webhook';
/** Instruction type of the Webhook response node. */
export const RESPONSE_INSTRUCTION = 'webhook-response';
/** The delivery log: its collection, and the resource the admin UI and the API read it through. */
export const DELIVERIES = 'webhookDeliveries';
/** URL prefix under the app's API base path. */
export const ROUTE_SEGMENT = 'webhooks';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** An HTTP header name (RFC 9110 token). */
export const HEADER_NAME_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** What the server sends in place of a stored secret; sent back unchanged, it keeps the stored value. */
export const SECRET_MASK = '********';

/** What a sync webhook answers when its run outlives `timeoutMs`: `504 TIMEOUT`, or `202` with a status URL. */
export const ON_TIMEOUT = ['error', 'accept'] as const;
export type OnTimeout = (typeof ON_TIMEOUT)[number];

/** The sub-path under the webhook base that answers status URLs: `~` is never part of a key. */
export const STATUS_SEGMENT = '~status';
