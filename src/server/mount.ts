import type { Application } from '@nocobase/server';

/** An entry of NocoBase's middleware Toposort (@nocobase/utils, on @hapi/topo's Sorter). */
interface SortItem {
  seq: number;
  group: string;
}

interface Sorter {
  _items?: SortItem[];
  sort?: () => unknown;
}

/**
 * Mounts `middleware` first in the app's chain, before every NocoBase middleware (request
 * logger, body parser, auth...), without changing the order of the others.
 *
 * `app.use(fn, { before: [...] })` cannot do this: the sorter places items in the order they
 * were added (their `seq`) and only moves what a rule forces, so a late item with `before`
 * rules pulls other, unrelated middleware ahead with it (getBearerToken and the data-source
 * hooks moved before generateReqId and the logger). Instead the middleware is added without
 * rules and then given the first place in the adding order (seq 0, the others shifted by one):
 * an item without rules at seq 0 is sorted first, and the rest sort exactly as before. Later
 * `app.use` calls keep working (they take the next free seq). Should the sorter's shape ever
 * differ, it falls back to rules naming NocoBase's head middleware.
 */
export function mountFirst(
  app: Application,
  middleware: (ctx: any, next: () => Promise<void>) => unknown,
  tag: string,
) {
  const sorter = (app as unknown as { middleware: Sorter }).middleware;
  if (!Array.isArray(sorter._items) || typeof sorter.sort !== 'function') {
    // Unknown sorter: rules naming NocoBase's head middleware (they may move some others around).
    app.use(middleware as any, { tag, before: ['generateReqId', 'audit', 'logger', 'bodyParser'] });
    return;
  }
  app.use(middleware as any, { tag });
  const items = sorter._items;
  const ours = items.find((item) => item.group === tag)!;
  const rest = items.filter((item) => item !== ours).sort((a, b) => a.seq - b.seq);
  ours.seq = 0;
  rest.forEach((item, index) => {
    item.seq = index + 1;
  });
  sorter._items = [ours, ...rest];
  sorter.sort();
}
