import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readSettings } from '../src/server/settings';
import { createApplication } from './app';
import { answerClientErrorsAsJson } from './client-error';
import { DEMO_KEY, ensureDemoWorkflow } from './demo';
import { lockdownAsTheGatewayDoes } from './lockdown';

/**
 * `npm run start:api`: a NocoBase application with the workflow engine and this plugin, installed
 * on first start (embedded SQLite under ./storage unless DB_* say otherwise), served on
 * APP_PORT (13000), with an enabled demo webhook workflow; the intrinsics locked down as NocoBase's
 * Gateway does after start (scripts/lockdown.ts). `npm start` is the full app (serve-full-app.sh).
 */
async function main() {
  const app = await createApplication();
  if (!(await app.isInstalled())) await app.runCommandThrowError('install');
  await app.runCommandThrowError('start');
  lockdownAsTheGatewayDoes();
  // The plugin has checked every WEBHOOK_* variable while it loaded (an invalid one stops it there).
  const settings = readSettings(process.env, app.db.options.dialect);
  if (settings.WEBHOOK_DEMO === 'on') await ensureDemoWorkflow(app);

  const host = process.env.APP_HOST ?? '127.0.0.1';
  const port = Number(process.env.APP_PORT ?? 13000);
  // Stalled headers are answered 408 within WEBHOOK_HEADERS_TIMEOUT_MS (20 s) and 2 s more
  // (Node's default checks every 30 s against 60 s).
  const headersTimeout = settings.WEBHOOK_HEADERS_TIMEOUT_MS;
  const server = createServer({ headersTimeout, connectionsCheckingInterval: 2_000 }, app.callback());
  server.keepAliveTimeout = 65_000;
  answerClientErrorsAsJson(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const origin = `http://${host}:${port}`;
  const email = process.env.INIT_ROOT_EMAIL ?? 'admin@nocobase.com';
  const password = process.env.INIT_ROOT_PASSWORD ?? 'admin123';
  console.log(
    [
      '',
      `NocoBase with the webhook trigger is running at ${origin} (database: ${app.db.options.dialect})`,
      `  Demo webhook:  curl -X POST ${origin}/api/webhooks/${DEMO_KEY} -H 'Content-Type: application/json' -d '{"hello":"world"}'`,
      `  Sign in:       curl -X POST ${origin}/api/auth:signIn -H 'X-Authenticator: basic' -H 'Content-Type: application/json' -d '{"account":"${email}","password":"${password}"}'`,
      `  Root account:  ${email} / ${password}`,
      `READY ${origin}`,
      '',
    ].join('\n'),
  );

  // Diagnostics (the soak reads them): with WEBHOOK_STATS_MS set, a line of process figures that often.
  const statsEveryMs = settings.WEBHOOK_STATS_MS;
  if (statsEveryMs > 0) {
    // The histogram holds the time between 10 ms timer ticks: the delay is what exceeds 10 ms.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const ms = (ns: number) => Math.max(0, Math.round((ns - 10e6) / 1e4) / 100);
    setInterval(() => {
      const memory = process.memoryUsage();
      const stats = {
        rssMb: Math.round(memory.rss / 1048576),
        heapMb: Math.round(memory.heapUsed / 1048576),
        loopDelayMs: { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) },
        activeResources: process.getActiveResourcesInfo().length,
      };
      console.log(`STATS ${JSON.stringify(stats)}`);
      loopDelay.reset();
    }, statsEveryMs).unref();
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    await app.stop();
    await app.db.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
