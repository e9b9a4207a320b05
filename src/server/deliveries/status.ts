import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '@nocobase/database';
import { DELIVERIES } from '../../common/constants';
import type { DeliveryRow } from './collection';

/** What `GET statusUrl` answers (SPEC.md, "Answers: more modes"). */
export interface DeliveryStatus {
  deliveryId: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  executionId: string | null;
  response: DeliveryRow['runResponse'];
}

export const hashStatusToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new status token (144 random bits) and the hash the delivery row keeps of it. */
export function newStatusToken(): { token: string; hash: string } {
  const token = randomBytes(18).toString('base64url');
  return { token, hash: hashStatusToken(token) };
}

const STATUS_TOKEN = /^[A-Za-z0-9_-]{24}$/;

/** The status of the delivery whose 202 carried this token, or null (unknown token). */
export async function deliveryStatus(db: Database, token: string): Promise<DeliveryStatus | null> {
  if (!STATUS_TOKEN.test(token)) return null;
  const row = (await db.getModel(DELIVERIES).findOne({
    where: { statusTokenHash: hashStatusToken(token) },
    attributes: ['id', 'executionId', 'runResponse', 'response', 'status'],
    raw: true,
  })) as Pick<DeliveryRow, 'id' | 'executionId' | 'runResponse' | 'response' | 'status'> | null;
  if (!row) return null;
  const executionId = row.executionId === null ? null : String(row.executionId);
  let status: DeliveryStatus['status'] = 'queued';
  if (executionId) {
    const execution = (await db.getModel('executions').findOne({
      where: { id: executionId },
      attributes: ['status'],
      raw: true,
    })) as { status: number | null } | null;
    const s = execution?.status;
    status = s === null || s === undefined ? 'queued' : s === 0 ? 'running' : s > 0 ? 'succeeded' : 'failed';
  }
  const response = typeof row.runResponse === 'string' ? JSON.parse(row.runResponse) : row.runResponse;
  return { deliveryId: String(row.id), status, executionId, response: response ?? null };
}
