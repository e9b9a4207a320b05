import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Answer {
  status: number;
  contentType: string;
  body: string;
  case: string;
}

const SOCKET_DEADLINE_MS = 6000;

/** Sends exact bytes over a socket (optionally in slow pieces) and reads one HTTP answer. */
export function rawExchange(
  port: number,
  pieces: Buffer[],
  label: string,
  pauseMs = 0,
  abort = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${label}: no answer within ${SOCKET_DEADLINE_MS} ms (stalled socket)`));
    }, SOCKET_DEADLINE_MS);
    const finish = () => {
      clearTimeout(deadline);
      const text = data.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!match) {
        reject(new Error(`${label}: connection closed without an HTTP answer`));
        return;
      }
      const [head, ...rest] = text.split('\r\n\r\n');
      const contentType = /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? '';
      resolve({ status: Number(match[1]), contentType, body: rest.join('\r\n\r\n'), case: label });
    };
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const text = data.toString('latin1');
      const length = /content-length: (\d+)/i.exec(text);
      const headEnd = text.indexOf('\r\n\r\n');
      if (length && headEnd >= 0 && data.length >= headEnd + 4 + Number(length[1])) {
        socket.destroy();
        finish();
      }
    });
    socket.on('close', () => {
      if (data.length) finish();
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      }
      if (abort) {
        // The client goes away mid-body: there is no one to answer.
        await new Promise((r) => setTimeout(r, 20));
        clearTimeout(deadline);
        socket.destroy();
        resolve({ status: 0, contentType: '', body: '', case: label });
      }
    });
  });
}

export function request(
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body: Buffer | string = '',
) {
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  const hasLength = Object.keys(headers).some((h) => h.toLowerCase() === 'content-length');
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (!hasLength && !('Transfer-Encoding' in headers)) lines.push(`Content-Length: ${payload.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
}

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

export interface BadRequest {
  label: string;
  pieces: Buffer[];
  pauseMs?: number;
  /** The client closes the connection before its body ends; no answer is read. */
  abort?: boolean;
}

const multipart = { 'Content-Type': 'multipart/form-data; boundary=B' };
const filePart = (i: number) =>
  `--B\r\nContent-Disposition: form-data; name="f${i}"; filename="a${i}.txt"\r\nContent-Type: text/plain\r\n\r\nhello ${i}\r\n`;

/**
 * Bodies cut short in every media type: the whole (short) body sent with a matching length,
 * so that the parser sees the truncation (answered 400), or the client gone mid-body (dropped).
 */
export function* truncatedBodies(): Generator<BadRequest> {
  const cut = {
    'multipart file': [multipart, '--B\r\nContent-Disposition: form-data; name="f"; filename="a"\r\n\r\nhello'],
    'multipart field': [multipart, '--B\r\nContent-Disposition: form-data; name="f"\r\n\r\nhel'],
    'multipart header': [multipart, '--B\r\nContent-Disposition: form-da'],
    json: [{ 'Content-Type': 'application/json' }, '{"order":{"id":1,"items":[1,2'],
    form: [{ 'Content-Type': 'application/x-www-form-urlencoded' }, 'a=1&b=%2'],
    xml: [{ 'Content-Type': 'application/xml' }, '<order><id>1</id><ite'],
    binary: [{ 'Content-Type': 'application/octet-stream' }, 'PK\u0003\u0004'],
  } as const;
  for (const [kind, [headers, body]] of Object.entries(cut)) {
    for (const key of ['open', 'open-async']) {
      // Cut short yet complete by its length: only JSON and multipart can tell (a cut form,
      // text or binary body is a shorter valid one).
      if (kind === 'json' || kind.startsWith('multipart')) {
        yield {
          label: `truncated ${kind} to ${key}`,
          pieces: [request('POST', `/api/webhooks/${key}`, headers, body)],
        };
      }
      yield {
        label: `client gone mid-body, ${kind} to ${key}`,
        pieces: [request('POST', `/api/webhooks/${key}`, { ...headers, 'Content-Length': body.length + 500 }, body)],
        abort: true,
      };
      yield {
        label: `client gone mid-chunk, ${kind} to ${key}`,
        pieces: [
          request(
            'POST',
            `/api/webhooks/${key}`,
            { ...headers, 'Transfer-Encoding': 'chunked' },
            `${body.length.toString(16)}\r\n${body}\r\n40\r\nabc`,
          ),
        ],
        abort: true,
      };
      yield {
        label: `broken chunk framing, ${kind} to ${key}`,
        pieces: [
          request(
            'POST',
            `/api/webhooks/${key}`,
            { ...headers, 'Transfer-Encoding': 'chunked' },
            `zz\r\n${body}\r\n0\r\n\r\n`,
          ),
        ],
      };
    }
  }
  // A file cut short while it streams, once every few bytes.
  const whole = `${filePart(0)}--B--\r\n`;
  for (let i = 1; i * 3 < whole.length - 8; i++) {
    yield {
      label: `multipart cut at ${i * 3}`,
      pieces: [request('POST', '/api/webhooks/open', multipart, whole.slice(0, i * 3))],
    };
  }
}

/** At least 1,000 bad requests of many kinds, each with a label. */
export function* badRequests(): Generator<BadRequest> {
  yield* truncatedBodies();
  const json = { 'Content-Type': 'application/json' };
  yield {
    label: 'gzip body',
    pieces: [request('POST', '/api/webhooks/strict', { ...json, 'Content-Encoding': 'gzip' }, '\u001f\u008b\u0008')],
  };
  yield { label: 'NUL in query', pieces: [request('POST', '/api/webhooks/strict?a=%00', json, '{}')] };
  yield {
    label: '11,000 JSON keys',
    pieces: [
      request(
        'POST',
        '/api/webhooks/strict-multipart',
        json,
        JSON.stringify(Object.fromEntries(Array.from({ length: 11_000 }, (_, i) => [`k${i}`, i]))),
      ),
    ],
  };
  yield {
    label: '1 MiB of small nested arrays (each array short, 100,000 arrays in all)',
    pieces: [
      request(
        'POST',
        '/api/webhooks/strict-multipart',
        json,
        `[${Array(10_000).fill('[[[[[[[[[[]]]]]]]]]]').join(',')}]`,
      ),
    ],
  };
  yield {
    label: 'array of 10,001 items',
    pieces: [request('POST', '/api/webhooks/strict-multipart', json, JSON.stringify(new Array(10_001).fill(0)))],
  };
  for (let i = 0; i < 2; i++) {
    yield {
      label: `10,000 files ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict-multipart',
          multipart,
          `${Array.from({ length: 10_000 }, (_, n) => filePart(n)).join('')}--B--\r\n`,
        ),
      ],
    };
    yield {
      label: `schema-refused multipart with a file ${i}`,
      pieces: [request('POST', '/api/webhooks/strict-multipart', multipart, `${filePart(i)}--B--\r\n`)],
    };
  }
  const valid = JSON.stringify({ order: 1, items: [1, 2, 3], note: 'fine' });
  for (let i = 0; i < 120; i++) {
    const cut = valid.slice(0, 1 + (i % (valid.length - 1)));
    yield { label: `truncated json ${i}`, pieces: [request('POST', '/api/webhooks/strict', json, cut)] };
    yield {
      label: `forged signature ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/signed',
          { ...json, 'X-Hub-Signature-256': `sha256=${randomBytes(32).toString('hex')}` },
          valid,
        ),
      ],
    };
    yield {
      label: `random bytes ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, randomBytes(1 + (i % 300)))],
    };
    yield {
      label: `spoofed xff ${i}`,
      pieces: [
        request('POST', '/api/webhooks/lan-only', { ...json, 'X-Forwarded-For': `192.168.0.${i % 255}` }, valid),
      ],
    };
    yield {
      label: `proto keys ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          json,
          `{"__proto__":{"admin":${i}},"constructor":{"prototype":{"x":1}},"a":{"__proto__":[]}}`,
        ),
      ],
    };
  }
  for (let i = 0; i < 60; i++) {
    yield { label: `deep json ${i}`, pieces: [request('POST', '/api/webhooks/strict', json, nested(65 + i * 50))] };
    yield {
      label: `invalid utf-8 ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          json,
          Buffer.concat([Buffer.from('{"a":"'), randomBytes(4).fill(0xff, 0, 1), Buffer.from('"}')]),
        ),
      ],
    };
    yield {
      label: `unsupported type ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { 'Content-Type': `application/x-thing-${i}` }, 'x')],
    };
    yield {
      label: `wrong method ${i}`,
      pieces: [request(['PUT', 'PATCH', 'DELETE', 'GET'][i % 4], '/api/webhooks/strict', json, '{}')],
    };
    yield {
      label: `nul in json ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, `{"k${i}":"a\\u0000b"}`)],
    };
    yield {
      label: `nul in text ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { 'Content-Type': 'text/plain' }, `a\u0000${i}`)],
    };
    yield { label: `unknown key ${i}`, pieces: [request('POST', `/api/webhooks/nope-${i}`, json, valid)] };
    yield {
      label: `oversized ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', json, Buffer.alloc(2048 + i, 0x61))],
    };
    yield {
      label: `oversized chunked ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          { ...json, 'Transfer-Encoding': 'chunked' },
          `1000\r\n${'a'.repeat(4096)}\r\n0\r\n\r\n`,
        ),
      ],
    };
    yield {
      label: `bad content-length ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict',
          { ...json, 'Content-Length': ['abc', '-1', '1e3', '12, 13'][i % 4] },
          '{}',
        ),
      ],
    };
  }
  for (let i = 0; i < 10; i++) {
    yield {
      label: `too many parts ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict-multipart',
          { 'Content-Type': 'multipart/form-data; boundary=XX' },
          `${'--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n'.repeat(1100)}--XX--\r\n`,
        ),
      ],
    };
    yield {
      label: `broken multipart ${i}`,
      pieces: [
        request(
          'POST',
          '/api/webhooks/strict-multipart',
          { 'Content-Type': 'multipart/form-data; boundary=XX' },
          '--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nno end',
        ),
      ],
    };
    yield {
      label: `huge headers ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { ...json, 'X-Big': 'h'.repeat(20_000 + i) }, '{}')],
    };
    yield {
      label: `short body ${i}`,
      pieces: [request('POST', '/api/webhooks/strict', { ...json, 'Content-Length': 500 }, '{"a":1}')],
    };
    yield {
      label: `slow body ${i}`,
      pieces: [
        request('POST', '/api/webhooks/strict', { ...json, 'Content-Length': 20 }, '{"a"'),
        Buffer.from(':'),
        Buffer.from('1'),
      ],
      pauseMs: 400,
    };
  }
}

/** The webhooks the bad requests are aimed at (key -> config; sync ones answer with an Output node). */
export const HOSTILE_TARGETS: Array<{ sync: boolean; config: Record<string, unknown> }> = [
  { sync: true, config: { key: 'strict', maxBodyBytes: 2048, bodySchema: { not: {} } } },
  { sync: false, config: { key: 'strict-multipart', bodySchema: { not: {} } } },
  { sync: true, config: { key: 'signed', verification: { type: 'github', secret: 's' } } },
  { sync: false, config: { key: 'lan-only', ipAllowlist: ['192.168.0.0/16'] } },
  { sync: true, config: { key: 'open' } },
  { sync: false, config: { key: 'open-async' } },
  { sync: true, config: { key: 'healthy' } },
];

/** Sends every bad request, 16 at a time; returns the answers (status 0: the client went away). */
export async function sendBadRequests(port: number): Promise<Answer[]> {
  const queue = [...badRequests()];
  const answers: Answer[] = [];
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift())
      answers.push(await rawExchange(port, c.pieces, c.label, c.pauseMs, c.abort));
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return answers;
}

/** Answers that are not a 4xx in SPEC.md's JSON error shape (dropped requests aside). */
export function wrongAnswers(answers: Answer[]): string[] {
  return answers
    .filter((a) => {
      if (a.status === 0) return false;
      if (a.status < 400 || a.status > 499 || !a.contentType.includes('application/json')) return true;
      try {
        const { error } = JSON.parse(a.body);
        return typeof error?.code !== 'string' || typeof error?.message !== 'string';
      } catch {
        return true;
      }
    })
    .map((a) => `${a.case}: ${a.status} ${a.body.slice(0, 120)}`);
}

/** Every file under a folder (none when it does not exist). */
export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath ?? (e as any).path, e.name));
  } catch {
    return [];
  }
}
