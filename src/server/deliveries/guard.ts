import type { Application } from '@nocobase/server';
import type { Next } from 'koa';
import { DELIVERIES } from '../../common/constants';

/** What the API may do with the delivery log: read it and replay it. */
export const DELIVERY_ACTIONS = new Set(['list', 'get', 'replay']);

/** The delivery log is written by the plugin alone: every other action is refused, for every role, root included. */
export function guardDeliveryLog(app: Application, allowed: ReadonlySet<string> = DELIVERY_ACTIONS): void {
  app.resourceManager.use(
    async (ctx: any, next: Next) => {
      const { resourceName, actionName } = ctx.action ?? {};
      if (resourceName === DELIVERIES && !allowed.has(actionName)) {
        ctx.throw(
          405,
          `${DELIVERIES}:${actionName} is not allowed: the delivery log is written by the webhook plugin alone`,
        );
      }
      await next();
    },
    { tag: 'webhookDeliveriesReadOnly', before: 'acl' },
  );
}
