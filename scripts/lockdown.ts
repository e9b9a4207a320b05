import { lockdownSes } from '@nocobase/utils';

/**
 * Freezes the JavaScript intrinsics as NocoBase's Gateway does once the main app has started
 * (`nocobase start`: `lockdownSes` with these options, @nocobase/server's gateway). The light
 * runners serve `app.callback()` without the Gateway, so they call this after the app's start
 * to run the plugin as production runs it: frozen prototypes, SES's Error and Date, which change
 * what some operations cost (an `Error` is ten times dearer). `SES_LOCKDOWN=off` skips
 * it (a comparison in the bench).
 */
export function lockdownAsTheGatewayDoes(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.SES_LOCKDOWN === 'off') return false;
  lockdownSes({
    consoleTaming: 'unsafe',
    errorTaming: 'unsafe',
    overrideTaming: 'moderate',
    stackFiltering: 'verbose',
  });
  return true;
}
