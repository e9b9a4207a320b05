/**
 * `node --import tsx bench/gateway-ab.ts`: issue 14's A/B of the webhook route's place in the full
 * NocoBase server, in one app process, interleaved, so that a busy machine weighs on both sides
 * alike. The full app (bench/full-app.ts: the stock 2.2.15 app in BENCH_APP_DIR, this plugin and
 * the probe from their tarballs, a fresh SQLite database) serves each rejection two ways:
 *
 * - "Gateway handler": as shipped (WEBHOOK_MOUNT=gateway), answered from the Gateway's request
 *   handler;
 * - "Koa chain": the same request with `X-App: main`, which the handler leaves to the Gateway's own
 *   way (app selector, supervisor look-ups, `app.callback()`), so the route answers from the head of
 *   the Koa chain, as with WEBHOOK_MOUNT=app;
 *
 * beside the two no-op floors of the probe and a bare Koa route (bench/koa-baseline.ts). Besides
 * req/s it reports the app process's CPU time per request (/proc: user + system, all threads),
 * which other processes on the machine disturb far less than throughput. Rounds (AB_ROUNDS, 5) of
 * AB_DURATION (3) seconds per arm, the arms' order rotated each round; medians.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from './db';
import { FullApp, packPlugins } from './full-app';
import { runLoad } from './load';
import { processCpuSeconds, systemBusySeconds } from './system';

const ROUNDS = Number(process.env.AB_ROUNDS ?? 5);
const DURATION = Number(process.env.AB_DURATION ?? 3);
const CONNECTIONS = 32;
const APP_DIR = path.resolve(process.env.BENCH_APP_DIR ?? path.join(__dirname, '..', '.bench-app'));
const body = Buffer.from('{"id":1,"event":"bench"}');
const json = { 'content-type': 'application/json' };
const forgedHeaders = { ...json, 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };
const viaKoa = { 'x-app': 'main' };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function startKoa(): Promise<{ child: ChildProcess; port: number; pid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'koa-baseline.ts')], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m: any) => resolve({ child, port: m.port, pid: m.pid }));
    child.once('exit', (code) => reject(new Error(`koa baseline exited ${code}`)));
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const temp = mkdtempSync(path.join(os.tmpdir(), 'webhook-gateway-ab-'));
  const koa = await startKoa();
  const database = await createBenchDatabase(temp);
  const full = new FullApp({
    appDir: APP_DIR,
    tempDir: temp,
    dbEnv: database.env,
    port: await freePort(),
    startTimeoutSec: 240,
    log: (line) => console.log(line),
  });
  try {
    console.log(`full app in ${APP_DIR}: packing, installing, starting...`);
    await full.install(packPlugins(path.join(temp, 'pack')));
    await full.start();
    const gh = await full.createWorkflow({
      name: 'github',
      sync: true,
      config: { key: 'ab-github', verification: { type: 'github', secret: 'ab-secret' } },
      nodes: [{ type: 'output', config: { value: 'ok' } }],
    } as any);
    await full.action('webhookBench:authBudget', { on: false });
    const o = full.origin;
    const arms: Array<{ name: string; url: string; headers: Record<string, string>; expect: number; pid: number }> = [
      {
        name: 'bare Koa route + JSON parser',
        url: `http://127.0.0.1:${koa.port}/hook`,
        headers: json,
        expect: 200,
        pid: koa.pid,
      },
      {
        name: 'floor: no-op 204, Gateway handler',
        url: `${o}/api/bench-noop/gateway`,
        headers: json,
        expect: 204,
        pid: full.pid,
      },
      {
        name: 'floor: no-op 204, Koa chain',
        url: `${o}/api/bench-noop/position`,
        headers: json,
        expect: 204,
        pid: full.pid,
      },
      {
        name: 'unknown key 404, Gateway handler',
        url: `${o}/api/webhooks/ab-none`,
        headers: json,
        expect: 404,
        pid: full.pid,
      },
      {
        name: 'unknown key 404, Koa chain (X-App: main)',
        url: `${o}/api/webhooks/ab-none`,
        headers: { ...json, ...viaKoa },
        expect: 404,
        pid: full.pid,
      },
      {
        name: 'forged GitHub 401, Gateway handler',
        url: `${o}/api/webhooks/${gh.webhookKey}`,
        headers: forgedHeaders,
        expect: 401,
        pid: full.pid,
      },
      {
        name: 'forged GitHub 401, Koa chain (X-App: main)',
        url: `${o}/api/webhooks/${gh.webhookKey}`,
        headers: { ...forgedHeaders, ...viaKoa },
        expect: 401,
        pid: full.pid,
      },
    ];
    const served0 = (await full.action('webhookBench:diag')).webhookGatewayServed;
    console.log('warming up...');
    for (const arm of arms) {
      await runLoad({
        url: arm.url,
        headers: arm.headers,
        body,
        connections: CONNECTIONS,
        durationSec: 1,
        maxRequests: 1e7,
        expect: [arm.expect],
      });
    }
    const results = new Map<
      string,
      { rps: number[]; cpuUs: number[]; vsKoa: number[]; cpuVsKoa: number[]; other: number[]; errors: number }
    >();
    for (let round = 0; round < ROUNDS; round++) {
      const order = arms.map((_, i) => arms[(i + round) % arms.length]);
      const koaOf: { rps: number; cpuUs: number } = { rps: Number.NaN, cpuUs: Number.NaN };
      const measured: Array<{ arm: (typeof arms)[number]; rps: number; cpuUs: number; other: number; errors: number }> =
        [];
      for (const arm of order) {
        const cpu0 = processCpuSeconds(arm.pid);
        const busy0 = systemBusySeconds();
        const benchCpu0 = process.cpuUsage();
        const r = await runLoad({
          url: arm.url,
          headers: arm.headers,
          body,
          connections: CONNECTIONS,
          durationSec: DURATION,
          maxRequests: 1e7,
          expect: [arm.expect],
        });
        const cpu = processCpuSeconds(arm.pid) - cpu0;
        const bench = process.cpuUsage(benchCpu0);
        const other = (systemBusySeconds() - busy0 - cpu - (bench.user + bench.system) / 1e6) / r.seconds;
        const m = { arm, rps: r.rps, cpuUs: (cpu / Math.max(1, r.responses)) * 1e6, other, errors: r.errors };
        measured.push(m);
        if (arm === arms[0]) Object.assign(koaOf, { rps: m.rps, cpuUs: m.cpuUs });
        await new Promise((res) => setTimeout(res, 300));
      }
      for (const m of measured) {
        const entry = results.get(m.arm.name) ?? { rps: [], cpuUs: [], vsKoa: [], cpuVsKoa: [], other: [], errors: 0 };
        entry.rps.push(m.rps);
        entry.cpuUs.push(m.cpuUs);
        entry.vsKoa.push(m.rps / koaOf.rps);
        entry.cpuVsKoa.push(koaOf.cpuUs / m.cpuUs);
        entry.other.push(m.other);
        entry.errors += m.errors;
        results.set(m.arm.name, entry);
      }
      console.log(`round ${round + 1}/${ROUNDS} done`);
    }
    const served = (await full.action('webhookBench:diag')).webhookGatewayServed - served0;
    const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
    const lines = [
      `| arm (${ROUNDS} rounds x ${DURATION} s, 32 conn., medians) | req/s | vs Koa (req/s) | app CPU µs / request | Koa's CPU / request ÷ this one | other load (cores) | errors |`,
      '|:--|--:|--:|--:|--:|--:|--:|',
      ...arms.map((arm) => {
        const e = results.get(arm.name)!;
        return `| ${arm.name} | ${Math.round(median(e.rps)).toLocaleString('en-US')} | ${pct(median(e.vsKoa))} | ${median(e.cpuUs).toFixed(0)} | ${pct(median(e.cpuVsKoa))} | ${median(e.other).toFixed(2)} | ${e.errors} |`;
      }),
    ];
    console.log(`\n${lines.join('\n')}\n`);
    console.log(`requests answered from the Gateway handler during the run: ${served.toLocaleString('en-US')}`);
  } finally {
    await full.stop();
    koa.child.kill();
    await database.drop();
    rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
