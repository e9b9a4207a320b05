import { existsSync, readFileSync } from 'node:fs';
import { Plugin } from '@nocobase/server';

/**
 * Test-only workflow nodes, registered on the real engine like any instruction plugin would:
 * `test-sleep` waits `config.ms` before resolving (to make runs slower than a timeout);
 * `test-read-files` reads `$context.files` while the run goes on (base64, null when missing).
 */
export class TestInstructionsPlugin extends Plugin {
  override async load() {
    const engine = this.app.pm.get('workflow') as any;
    engine.registerInstruction('test-sleep', {
      async run(node: any) {
        await new Promise((resolve) => setTimeout(resolve, Number(node.config?.ms ?? 0)));
        return { status: 1, result: node.config?.ms };
      },
    });
    engine.registerInstruction('test-read-files', {
      run(_node: any, _input: any, processor: any) {
        const files = (processor.execution.context?.files ?? []) as Array<{ path: string }>;
        const result = files.map((f) => (existsSync(f.path) ? readFileSync(f.path).toString('base64') : null));
        return { status: 1, result };
      },
    });
  }
}

export const testInstructions = [TestInstructionsPlugin, { name: 'webhook-test-instructions' }];
