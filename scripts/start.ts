import { createServer } from 'node:http';
import { createApplication } from './app';
import { answerClientErrorsAsJson } from './client-error';
import { DEMO_KEY, ensureDemoWorkflow } from './demo';

/**
 * `npm start`: a real NocoBase application with the workflow engine and this plugin, installed
 * on first start (embedded SQLite under ./storage unless DB_* say otherwise), served on
 * APP_PORT (13000), with an enabled demo webhook workflow.
 */
async function main() {
  const app = await createApplication();
  if (!(await app.isInstalled())) await app.runCommandThrowError('install');
  await app.runCommandThrowError('start');
  if (process.env.WEBHOOK_DEMO !== 'off') await ensureDemoWorkflow(app);

  const host = process.env.APP_HOST ?? '127.0.0.1';
  const port = Number(process.env.APP_PORT ?? 13000);
  const server = createServer(app.callback());
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
