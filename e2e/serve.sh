#!/usr/bin/env bash
# Runs the full NocoBase 2.2.15 application with its prebuilt admin UI and this plugin (built,
# packed and installed through `nocobase-v1 pm add`, as a user would) on embedded SQLite, in the
# foreground, and prints the admin URL and credentials. Data stays in e2e/.app/storage between runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
app="${E2E_APP_DIR:-$here/.app}"
port="${APP_PORT:-13000}"
export E2E_APP_DIR="$app" E2E_APP_PORT="$port"

bash "$here/setup-app.sh"
cd "$root"
npm run build --silent
rm -rf "$here/.pack" && mkdir -p "$here/.pack"
npm pack --ignore-scripts --silent --pack-destination "$here/.pack" >/dev/null
tarball="$(ls "$here"/.pack/*.tgz)"

cd "$app"
nb() { npx --no-install nocobase-v1 "$@"; }
log="$here/.app-serve.log"
: > "$log"
rm -rf storage/plugins/nocobase-plugin-webhook-trigger node_modules/nocobase-plugin-webhook-trigger
nb pm add "$tarball" >>"$log" 2>&1
nb pm enable nocobase-plugin-webhook-trigger >>"$log" 2>&1
email="$(sed -n 's/^INIT_ROOT_EMAIL=//p' .env)"
password="$(sed -n 's/^INIT_ROOT_PASSWORD=//p' .env)"
(
  for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/api/app:getInfo" >/dev/null 2>&1; then
      printf '\nNocoBase with the webhook trigger: http://127.0.0.1:%s/admin/settings/workflow\n' "$port"
      printf '  Sign in as %s / %s (database: SQLite in %s/storage/db)\n' "$email" "$password" "$app"
      printf '  Webhooks: http://127.0.0.1:%s/api/webhooks/<key>\nREADY http://127.0.0.1:%s\n\n' "$port" "$port"
      exit 0
    fi
    sleep 1
  done
  echo "NocoBase did not answer; see $log" >&2
) &
exec env APP_LAUNCH_MODE=node APP_PORT="$port" npx --no-install nocobase-v1 start
