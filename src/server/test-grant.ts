import type { IncomingMessage } from 'node:http';
import type { IndexEntry } from './key-index';

/**
 * A test request built inside the server (webhookDeliveries:test) names the workflow version it
 * is for. The grant lives on the request object itself, which only the server can make: no header
 * or URL of an outside request can carry one.
 */
const grants = new WeakMap<IncomingMessage, IndexEntry>();

export function grantTest(req: IncomingMessage, entry: IndexEntry): void {
  grants.set(req, entry);
}

export function testGrantOf(req: IncomingMessage): IndexEntry | undefined {
  return grants.get(req);
}
