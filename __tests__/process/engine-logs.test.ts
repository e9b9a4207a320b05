import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import { tuneEngineLoggers } from '../../src/server/engine-logs';
import { createTestApp, type TestApp } from '../helpers/app';

// src/server/engine-logs.ts: the workflow engine's loggers serialise a message only for a
// transport whose level takes it, and write the same lines as NocoBase's own loggers.
describe('workflow engine loggers', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.destroy();
  });

  /** Something the size of an execution that counts how often it is serialised. */
  const execution = () => {
    const counted = {
      serialised: 0,
      toJSON() {
        counted.serialised++;
        return { id: 1, context: { data: 'x' } };
      },
    };
    return counted;
  };

  /** A logger as the engine hands it out, written (not silent) at `error` only, into `lines`. */
  const capture = (logger: any) => {
    const lines: string[] = [];
    logger.silent = false;
    for (const transport of [...logger.transports]) logger.remove(transport);
    logger.level = 'error';
    logger.add(
      new winston.transports.Stream({
        format: winston.format.json(),
        stream: new Writable({
          write(chunk, _encoding, done) {
            lines.push(String(chunk).trim());
            done();
          },
        }),
      }),
    );
    return lines;
  };

  it("serialises nothing for a level that is not written, and writes the same lines as NocoBase's", async () => {
    // The engine of the test app is tuned by the plugin (WEBHOOK_ENGINE_LOG_TUNING on).
    const tunedLogger = t.engine.getLogger('engine-logs-test') as any;
    const tunedLines = capture(tunedLogger);
    // The same kind of logger, as NocoBase makes it, for comparison.
    const plainLogger = (t.engine as any).createLogger({ dirname: 'engine-logs-test', filename: '%DATE%.log' });
    const plainLines = capture(plainLogger);

    for (const [logger, expected] of [
      [plainLogger, 1],
      [tunedLogger, 0],
    ] as const) {
      const debugged = execution();
      logger.debug('execution (1) details:', { execution: debugged });
      logger.info('execution (1) finished', { execution: debugged });
      await new Promise((resolve) => setImmediate(resolve));
      // NocoBase's loggers serialise the debug and the info message though neither is written.
      expect(debugged.serialised).toBe(expected * 2);
      const written = execution();
      logger.error('execution (1) error', { execution: written });
      await new Promise((resolve) => setImmediate(resolve));
      expect(written.serialised).toBeGreaterThanOrEqual(1);
    }
    expect(tunedLines).toEqual(plainLines);
    expect(tunedLines).toHaveLength(1);
    expect(JSON.parse(tunedLines[0])).toMatchObject({ level: 'error', message: 'execution (1) error' });
  });

  it('leaves a logger alone when one of its transports has no format of its own', () => {
    const engine = {
      getLogger: () => ({ format: 'original', transports: [{ format: {} }, {}] }),
    } as any;
    tuneEngineLoggers(engine);
    expect(engine.getLogger().format).toBe('original');
  });
});
