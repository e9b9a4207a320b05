import type { Database } from '@nocobase/database';
import type { WorkflowModel } from '@nocobase/plugin-workflow';
import { TRIGGER_TYPE } from '../../common/constants';
import { normalizeConfig, type RawWebhookConfig } from '../config';
import type { IndexEntry } from '../key-index';
import type { VerificationConfig } from '../verify';

/** Why a version cannot be run from the admin UI: HTTP status and message. */
export class VersionProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One version of a webhook workflow (enabled or not) as the route serves an enabled one: its
 * configuration checked and compiled, its secrets opened. For test requests and replays that name
 * the version being edited.
 */
export async function versionEntry(
  db: Database,
  workflowId: unknown,
  openSecrets: (verification: VerificationConfig) => VerificationConfig,
): Promise<IndexEntry> {
  if (workflowId === undefined || workflowId === null || workflowId === '' || !/^\d+$/.test(String(workflowId))) {
    throw new VersionProblem(400, 'workflowId must name a workflow version');
  }
  const workflow = (await db
    .getRepository('workflows')
    .findOne({ filterByTk: String(workflowId) })) as WorkflowModel | null;
  if (!workflow) throw new VersionProblem(404, `Workflow ${workflowId} not found`);
  if (workflow.get('type') !== TRIGGER_TYPE) throw new VersionProblem(400, `Workflow ${workflowId} is not a webhook`);
  try {
    return { workflow, config: normalizeConfig((workflow.get('config') ?? {}) as RawWebhookConfig, openSecrets) };
  } catch (error) {
    throw new VersionProblem(422, `This version's configuration is not valid: ${(error as Error).message}`);
  }
}
