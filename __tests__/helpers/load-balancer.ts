import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoadBalancer {
  origin: string;
  /** Replaces the upstream list (e.g. a restarted process on a new port). */
  setBackends(origins: string[]): void;
  /** Requests answered per upstream origin. */
  readonly answered: Map<string, number>;
  close(): Promise<void>;
}

const badGateway = (res: http.ServerResponse, message: string) => {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: { code: 'BAD_GATEWAY', message } }));
};

/**
 * A tiny round-robin HTTP proxy on loopback, standing in for nginx in front of several
 * application processes. Like nginx's `proxy_next_upstream error`, a request that could not
 * reach its upstream at all (connection refused) goes to the next one; a request that was
 * sent and then lost its connection answers 502, since the upstream may have acted on it.
 * It appends the client address to `X-Forwarded-For` and names the upstream in `X-Upstream`.
 */
export async function startLoadBalancer(backends: string[]): Promise<LoadBalancer> {
  let upstreams = [...backends];
  let turn = 0;
  const answered = new Map<string, number>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tried = new Set<string>();
      const forward = () => {
        const candidates = upstreams.filter((u) => !tried.has(u));
        if (!candidates.length) return badGateway(res, 'no upstream could be reached');
        const origin = upstreams[turn++ % upstreams.length];
        const target = new URL(tried.has(origin) ? candidates[0] : origin);
        tried.add(target.origin);
        const forwardedFor = [req.headers['x-forwarded-for'], req.socket.remoteAddress].filter(Boolean).join(', ');
        const upstream = http.request(
          {
            host: target.hostname,
            port: target.port,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'x-forwarded-for': forwardedFor, 'x-forwarded-proto': 'http' },
            agent: false,
          },
          (upRes) => {
            answered.set(target.origin, (answered.get(target.origin) ?? 0) + 1);
            res.writeHead(upRes.statusCode ?? 502, { ...upRes.headers, 'x-upstream': target.origin });
            upRes.pipe(res);
            upRes.on('error', () => res.destroy());
          },
        );
        upstream.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED' && !res.headersSent) forward();
          else badGateway(res, `upstream ${target.origin}: ${error.code ?? error.message}`);
        });
        upstream.end(body);
      };
      forward();
    });
  });
  // Idle client connections stay open longer than any pause in a test (the rate-limit test waits
  // out a window boundary): a connection closed by the server just as fetch reuses it is a reset.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    answered,
    setBackends(origins) {
      upstreams = [...origins];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
