import type PluginWorkflowServer from '@nocobase/plugin-workflow';

const tuned = Symbol('webhookEngineLogsTuned');

/**
 * A logger-level format that hands each message on as it is: every NocoBase transport formats
 * (and serialises) the message itself, after checking its own level.
 */
const HAND_ON = { transform: (info: unknown) => info };

interface WinstonLogger {
  format: unknown;
  transports: Array<{ format?: unknown }>;
  [tuned]?: true;
}

/**
 * NocoBase creates its loggers without a logger-level format, so winston applies its default,
 * `json()`, to every message before any transport looks at the level: the engine's
 * `logger.debug('execution (…) details:', { execution })` after each run (and its per-node debug
 * lines) serialises the whole execution, `toJSON` deep clone of its context included, even when
 * the log level is `info` or `error` and nothing is written. With a 1 MiB body that is a sixth of
 * the main thread's time. Every NocoBase transport sets its own output (`console`, `json`,
 * `logfmt`, `delimiter` formats), so the logger-level `json()` result is never written: handing
 * messages on unchanged keeps every log line as it was and serialises a message only for a
 * transport whose level takes it. Applied to the workflow engine's loggers as it hands them out,
 * to those whose every transport has a format of its own.
 */
export function tuneEngineLoggers(engine: PluginWorkflowServer): void {
  const target = engine as unknown as { getLogger: (workflowId?: string | number) => WinstonLogger; [tuned]?: true };
  if (target[tuned]) return;
  target[tuned] = true;
  const getLogger = target.getLogger.bind(engine);
  target.getLogger = (workflowId) => {
    const logger = getLogger(workflowId);
    // A transport without a format of its own writes what the logger-level format made.
    if (!logger[tuned] && logger.transports.every((transport) => transport.format)) {
      logger[tuned] = true;
      logger.format = HAND_ON;
    }
    return logger;
  };
}
