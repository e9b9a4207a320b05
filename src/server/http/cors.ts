import type { Context } from 'koa';

export interface CorsConfig {
  origins: string[];
}

function allowedOrigin(cors: CorsConfig | null, origin: string | undefined): string | null {
  if (!cors || !origin) return null;
  if (cors.origins.includes('*')) return '*';
  return cors.origins.includes(origin) ? origin : null;
}

/** Adds CORS headers for a listed origin (none for others). */
export function applyCors(ctx: Context, cors: CorsConfig | null): void {
  const origin = allowedOrigin(cors, ctx.get('Origin') || undefined);
  ctx.vary('Origin');
  if (!origin) return;
  ctx.set('Access-Control-Allow-Origin', origin);
  ctx.set('Access-Control-Expose-Headers', 'Retry-After');
}

/**
 * Answers a CORS preflight (OPTIONS with Access-Control-Request-Method) for a listed origin:
 * 204 with the allowed methods and the requested headers. Returns false when the request is
 * not a preflight. A preflight from an origin that is not listed gets 204 without CORS headers,
 * which the browser treats as a refusal.
 */
export function answerPreflight(ctx: Context, cors: CorsConfig | null, methods: string[]): boolean {
  if (ctx.method !== 'OPTIONS' || !ctx.get('Access-Control-Request-Method')) return false;
  const origin = allowedOrigin(cors, ctx.get('Origin') || undefined);
  ctx.vary('Origin');
  ctx.status = 204;
  if (origin) {
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Methods', methods.join(', '));
    const requested = ctx.get('Access-Control-Request-Headers');
    if (requested) ctx.set('Access-Control-Allow-Headers', requested);
    ctx.set('Access-Control-Max-Age', '600');
  }
  return true;
}
