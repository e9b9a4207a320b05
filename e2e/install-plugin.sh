#!/usr/bin/env bash
# Builds and packs this plugin, then installs the tarball into the full NocoBase app
# ($E2E_APP_DIR, made by setup-app.sh) the way a user would: `nocobase-v1 pm add` and `pm enable`.
# Usage: install-plugin.sh <log file> [--fresh-database]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
app="${E2E_APP_DIR:-$here/.app}"
log="$1"

cd "$root"
npm run build --silent
rm -rf "$here/.pack" && mkdir -p "$here/.pack"
npm pack --ignore-scripts --silent --pack-destination "$here/.pack" >/dev/null
tarball="$(ls "$here"/.pack/*.tgz)"

cd "$app"
nb() { npx --no-install nocobase-v1 "$@"; }
if [ "${2:-}" = "--fresh-database" ]; then
  nb install -f >>"$log" 2>&1
else
  # A database named by DB_* that is not installed yet gets installed first.
  nb install >>"$log" 2>&1 || true
fi
rm -rf storage/plugins/nocobase-plugin-webhook-trigger node_modules/nocobase-plugin-webhook-trigger
nb pm add "$tarball" >>"$log" 2>&1
nb pm enable nocobase-plugin-webhook-trigger >>"$log" 2>&1
