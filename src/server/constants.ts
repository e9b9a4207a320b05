/** Trigger type registered with the workflow engine. */
export const TRIGGER_TYPE = 'webhook';
/** Instruction type of the Webhook response node. */
export const RESPONSE_INSTRUCTION = 'webhook-response';
/** URL prefix under the app's API base path. */
export const ROUTE_SEGMENT = 'webhooks';

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const KEY_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
