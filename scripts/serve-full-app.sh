#!/usr/bin/env bash
# `npm start`: the full NocoBase 2.2.15 application with its prebuilt admin UI and this plugin
# (built, packed and installed with `nocobase-v1 pm add`, as a user would), on embedded SQLite
# under e2e/.app/storage unless DB_* say otherwise, on APP_PORT (13000). On first start it
# installs the app and creates an enabled demo webhook workflow; it prints the admin URL and the
# root account. NocoBase's usual variables (APP_PORT, DB_*, INIT_ROOT_EMAIL, INIT_ROOT_PASSWORD)
# are honoured. The first run creates the app from the npm registry (a few minutes, ~1 GB).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="${E2E_APP_DIR:-$root/e2e/.app}"
port="${APP_PORT:-13000}"
export E2E_APP_DIR="$app" E2E_APP_PORT="$port"
# SQLite waits for its lock in libuv's thread pool (4 threads by default): leave room.
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-64}"

bash "$root/e2e/setup-app.sh"
log="$root/e2e/.app-serve.log"
: > "$log"
bash "$root/e2e/install-plugin.sh" "$log"
cd "$app"
email="${INIT_ROOT_EMAIL:-$(sed -n 's/^INIT_ROOT_EMAIL=//p' .env)}"
password="${INIT_ROOT_PASSWORD:-$(sed -n 's/^INIT_ROOT_PASSWORD=//p' .env)}"
(
  origin="http://127.0.0.1:$port"
  for _ in $(seq 1 180); do
    if curl -sf "$origin/api/app:getInfo" >/dev/null 2>&1; then
      node --import tsx "$root/scripts/demo.ts" "$origin" "$email" "$password" || true
      printf '\nNocoBase with the webhook trigger is running at %s (admin UI: %s/admin)\n' "$origin" "$origin"
      printf '  Root account:  %s / %s\n' "$email" "$password"
      printf "  Demo webhook:  curl -X POST %s/api/webhooks/demo -H 'Content-Type: application/json' -d '{\"hello\":\"world\"}'\n" "$origin"
      printf '  Workflows:     %s/admin/settings/workflow\nREADY %s\n\n' "$origin" "$origin"
      exit 0
    fi
    sleep 1
  done
  echo "NocoBase did not answer; see $log" >&2
) &
cd "$app"
exec env APP_LAUNCH_MODE=node APP_PORT="$port" npx --no-install nocobase-v1 start
