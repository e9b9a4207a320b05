import { Plugin } from '@nocobase/server';

/**
 * Test-only workflow nodes, registered on the real engine like any instruction plugin would:
 * `test-sleep` waits `config.ms` before resolving (to make runs slower than a timeout).
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
  }
}

export const testInstructions = [TestInstructionsPlugin, { name: 'webhook-test-instructions' }];
