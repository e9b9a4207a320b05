#!/usr/bin/env bash
# `npm run e2e`: sets up a stock NocoBase 2.2.15 app with its prebuilt admin UI (once, in e2e/.app),
# builds and packs this plugin, installs the tarball with `nocobase-v1 pm add`, starts the app on a
# fresh SQLite database, runs the browser test in headless Chromium (Debian's), and stops the app.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
app="${E2E_APP_DIR:-$here/.app}"
port="${E2E_APP_PORT:-13000}"
export E2E_APP_DIR="$app" E2E_APP_PORT="$port"
export E2E_BASE_URL="http://127.0.0.1:$port"

bash "$here/setup-app.sh" --browser

log="$here/.app-run.log"
: > "$log"
echo "[e2e] building and packing the plugin, fresh database, then pm add"
bash "$here/install-plugin.sh" "$log" --fresh-database
cd "$app"

echo "[e2e] starting NocoBase on port $port"
APP_LAUNCH_MODE=node APP_PORT="$port" setsid npx --no-install nocobase-v1 start >>"$log" 2>&1 &
pid=$!
stop() {
  # The CLI runs the server as a child: stop the whole process group we started.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop EXIT
ready=""
for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  # Ready once a real API answers (the health check answers before the plugins are loaded).
  if curl -sf "$E2E_BASE_URL/api/app:getInfo" >/dev/null 2>&1; then ready=1; break; fi
  sleep 1
done
if [ -z "$ready" ]; then
  echo "[e2e] NocoBase did not start; last lines of $log:" >&2
  tail -40 "$log" >&2
  exit 1
fi

echo "[e2e] running the browser test against $E2E_BASE_URL"
cd "$root"
npx --no-install tsx --test --test-reporter=spec e2e/webhook.e2e.ts

# The Gateway mount (WEBHOOK_MOUNT=gateway) at process level: its own app process on a fresh
# database, once the browser test's app is stopped.
stop
trap - EXIT
echo "[e2e] the webhook route from the Gateway handler (e2e/gateway.e2e.ts)"
npx --no-install tsx --test --test-reporter=spec e2e/gateway.e2e.ts
