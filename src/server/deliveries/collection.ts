import { randomUUID } from 'node:crypto';
import type { CollectionOptions } from '@nocobase/database';
import { DELIVERIES } from '../../common/constants';

/** The delivery log: one row per request to /api/webhooks/*, accepted or rejected. */
export const deliveriesCollection: CollectionOptions = {
  name: DELIVERIES,
  dumpRules: { group: 'log' },
  migrationRules: ['schema-only'],
  shared: true,
  autoGenId: false,
  timestamps: true,
  updatedAt: false,
  indexes: [
    { fields: ['createdAt'] },
    { fields: ['workflowKey', 'createdAt'] },
    { fields: ['idempotencyKey'] },
    { fields: ['status', 'expectedBy'] },
    { fields: ['statusTokenHash'] },
  ],
  fields: [
    { type: 'string', name: 'id', primaryKey: true },
    { type: 'date', name: 'createdAt' },
    { type: 'bigInt', name: 'workflowId' },
    { type: 'string', name: 'workflowKey' },
    { type: 'string', name: 'key' },
    { type: 'string', name: 'method' },
    { type: 'text', name: 'path' },
    { type: 'string', name: 'ip' },
    { type: 'integer', name: 'status' },
    { type: 'string', name: 'errorCode' },
    { type: 'text', name: 'errorMessage' },
    { type: 'integer', name: 'durationMs' },
    { type: 'bigInt', name: 'executionId' },
    { type: 'json', name: 'headers' },
    { type: 'text', name: 'body' },
    { type: 'string', name: 'bodyEncoding', defaultValue: 'utf8' },
    { type: 'boolean', name: 'bodyTruncated', defaultValue: false },
    { type: 'integer', name: 'bodyBytes' },
    { type: 'string', name: 'idempotencyKey' },
    { type: 'json', name: 'response' },
    { type: 'string', name: 'replayOf' },
    // SHA-256 of the token in the statusUrl of a 202 (the token itself is never stored).
    { type: 'string', name: 'statusTokenHash' },
    // The answer the run built after the caller got its 202 (statusUrl's `response`).
    { type: 'json', name: 'runResponse' },
    // A sender's handshake (URL check, PING) that the plugin answered itself: no execution.
    { type: 'boolean', name: 'handshake', defaultValue: false },
    // A sync delivery is written before its run, with status null until it answers; past this
    // time without an answer its process died, and the row is marked CUT_OFF.
    { type: 'date', name: 'expectedBy' },
    // A test request sent from the admin UI (webhookDeliveries:test), signed by the server.
    { type: 'boolean', name: 'test', defaultValue: false },
    // A repeated idempotency key: the first answer was sent again, nothing started.
    { type: 'boolean', name: 'repeated', defaultValue: false },
    // The answer the caller got (status, headers, body; a long body cut), for the delivery detail.
    { type: 'json', name: 'answer' },
  ],
} as CollectionOptions;

/** One row of the delivery log, as written. */
export interface DeliveryRow {
  id: string;
  createdAt: Date;
  workflowId: number | string | null;
  workflowKey: string | null;
  key: string;
  method: string;
  path: string;
  ip: string;
  status: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  durationMs: number | null;
  executionId: string | number | null;
  headers: Record<string, string>;
  body: string | null;
  bodyEncoding?: 'utf8' | 'base64';
  bodyTruncated: boolean;
  bodyBytes: number;
  idempotencyKey: string | null;
  response: { status: number; headers?: Record<string, string>; body?: unknown } | null;
  replayOf: string | null;
  handshake: boolean;
  expectedBy: Date | null;
  statusTokenHash: string | null;
  runResponse: { status: number; headers?: Record<string, string>; body?: unknown } | null;
  test?: boolean;
  repeated?: boolean;
  answer?: { status: number; headers?: Record<string, string>; body?: unknown; bodyTruncated?: boolean } | null;
}

/** A fresh row: a new delivery id, now, and every other field empty, with `values` on top. */
export function newDeliveryRow(
  values: Partial<DeliveryRow> & Pick<DeliveryRow, 'key' | 'method' | 'path' | 'ip'>,
): DeliveryRow {
  return {
    id: randomUUID(),
    createdAt: new Date(),
    workflowId: null,
    workflowKey: null,
    status: null,
    errorCode: null,
    errorMessage: null,
    durationMs: null,
    executionId: null,
    headers: {},
    body: null,
    bodyTruncated: false,
    bodyBytes: 0,
    idempotencyKey: null,
    response: null,
    replayOf: null,
    handshake: false,
    expectedBy: null,
    statusTokenHash: null,
    runResponse: null,
    test: false,
    repeated: false,
    answer: null,
    ...values,
  };
}
