import { randomUUID } from 'node:crypto';
import type { Application } from '@nocobase/server';
import { createClient } from 'redis';
import { RedisPubSubAdapter } from './redis-pubsub-adapter';

/**
 * Running several application processes on one database (a cluster), configured from the
 * environment with NocoBase's own variable names. Nothing set: one process, in-memory cache.
 *
 * - `REDIS_URL`: one Redis for all of the below (each has its own variable to override it).
 * - `CACHE_DEFAULT_STORE` (`memory` | `redis`) and `CACHE_REDIS_URL`: NocoBase's cache on Redis
 *   (its built-in store); shared rate-limit counters among others. `redis` is the default
 *   as soon as a Redis URL is set.
 * - `PUBSUB_ADAPTER_REDIS_URL`: NocoBase's pub/sub on Redis (scripts/redis-pubsub-adapter.ts), so
 *   that a workflow enabled, changed or disabled through one process is honoured by the others.
 * - `WORKER_ID_REDIS_URL`: a worker id (1-31) per process, held in Redis, so that processes do not
 *   generate the same snowflake ids (NocoBase otherwise draws one at random).
 * - `REDIS_KEY_PREFIX`: put before every Redis key and channel, for several installations (or
 *   test runs) on one Redis.
 */
export interface ClusterSetup {
  /** Application options: cache, pub/sub channel names, worker id. */
  options: Record<string, unknown>;
  /** Gives the app its pub/sub adapter (again after each re-initialisation) and frees the worker id on stop. */
  attach(app: Application): void;
  summary: string;
}

const WORKER_ID_TTL_MS = 30_000;
/** NocoBase's snowflake ids have 5 bits of worker id; 0 means "none" to the application. */
const WORKER_IDS = 31;

export async function clusterFromEnv(appName = 'main'): Promise<ClusterSetup | null> {
  const env = process.env;
  const redisUrl = env.REDIS_URL || undefined;
  const cacheUrl = env.CACHE_REDIS_URL || redisUrl;
  const cacheStore = env.CACHE_DEFAULT_STORE || (cacheUrl ? 'redis' : 'memory');
  const pubSubUrl = env.PUBSUB_ADAPTER_REDIS_URL || redisUrl || env.CACHE_REDIS_URL || undefined;
  const workerIdUrl = env.WORKER_ID_REDIS_URL || pubSubUrl;
  const prefix = env.REDIS_KEY_PREFIX || undefined;
  if (cacheStore !== 'redis' && !pubSubUrl) return null;

  const options: Record<string, unknown> = {};
  const parts: string[] = [];
  if (cacheStore === 'redis') {
    if (!cacheUrl) throw new Error('CACHE_DEFAULT_STORE=redis needs CACHE_REDIS_URL (or REDIS_URL)');
    options.cacheManager = {
      defaultStore: 'redis',
      stores: { redis: { url: cacheUrl } },
      ...(prefix ? { prefix: `${prefix}:${appName}` } : {}),
    };
    parts.push('cache on Redis');
  }

  let adapter: RedisPubSubAdapter | null = null;
  if (pubSubUrl) {
    adapter = new RedisPubSubAdapter({
      url: pubSubUrl,
      channelPrefix: prefix,
      onError: (error) => console.error(`[redis pub/sub] ${error.message}`),
    });
    parts.push('pub/sub on Redis');
  }

  let workerId: WorkerIdLease | null = null;
  if (workerIdUrl) {
    workerId = await leaseWorkerId(workerIdUrl, `${prefix ?? 'nocobase'}:${appName}:worker-id`);
    options.instanceId = workerId.id;
    parts.push(`worker id ${workerId.id}`);
  }

  return {
    options,
    summary: parts.join(', '),
    attach(app) {
      if (adapter) {
        // The application builds a new PubSubManager when it re-initialises (install does):
        // give the current one the adapter now and whichever exists when plugins load.
        const give = () => {
          if (!(app.pubSubManager as any).adapter) app.pubSubManager.setAdapter(adapter);
        };
        give();
        app.on('beforeLoad', give);
        app.on('beforeStart', give);
      }
      if (workerId) {
        const lease = workerId;
        // `__stopped`, not `afterStop`: install re-initialises the app with a beforeStop/afterStop.
        app.on('__stopped', () => {
          lease.release().catch(() => undefined);
        });
      }
    },
  };
}

export interface WorkerIdLease {
  id: number;
  release(): Promise<void>;
}

/**
 * Takes a free worker id in Redis (`SET key NX PX`) and keeps it alive while the process runs;
 * a process that dies loses it after WORKER_ID_TTL_MS.
 */
export async function leaseWorkerId(url: string, keyPrefix: string): Promise<WorkerIdLease> {
  const client = createClient({ url });
  client.on('error', (error) => console.error(`[redis worker id] ${error.message}`));
  await client.connect();
  const token = randomUUID();
  const start = Math.floor(Math.random() * WORKER_IDS);
  let id = 0;
  for (let i = 0; i < WORKER_IDS && !id; i++) {
    const candidate = ((start + i) % WORKER_IDS) + 1;
    const ok = await client.set(`${keyPrefix}:${candidate}`, token, {
      condition: 'NX',
      expiration: { type: 'PX', value: WORKER_ID_TTL_MS },
    });
    if (ok) id = candidate;
  }
  if (!id) {
    await client.close();
    throw new Error(`all ${WORKER_IDS} worker ids under ${keyPrefix} are taken`);
  }
  const key = `${keyPrefix}:${id}`;
  // Extend or delete only while the key still holds this process's token.
  const extend = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
  const remove = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
  const timer = setInterval(() => {
    client
      .eval(extend, { keys: [key], arguments: [token, String(WORKER_ID_TTL_MS)] })
      .catch((error) => console.error(`[redis worker id] keep-alive failed: ${(error as Error).message}`));
  }, WORKER_ID_TTL_MS / 3);
  timer.unref();
  let released = false;
  return {
    id,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      try {
        await client.eval(remove, { keys: [key], arguments: [token] });
        await client.close();
      } catch {
        client.destroy();
      }
    },
  };
}
