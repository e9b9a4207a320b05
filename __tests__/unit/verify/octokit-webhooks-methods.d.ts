// The package ships ESM types only under `exports`, which the project's `moduleResolution: node` does not read.
// Vitest resolves the real module; this declares the functions the tests use.
declare module '@octokit/webhooks-methods' {
  export function sign(secret: string, payload: string): Promise<string>;
  export function verify(secret: string, payload: string, signature: string): Promise<boolean>;
}
