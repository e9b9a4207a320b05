#!/usr/bin/env bash
# Creates a stock NocoBase 2.2.15 application with its prebuilt admin UI in e2e/.app (or $E2E_APP_DIR),
# from the npm registry only, on embedded SQLite. With --browser (the browser test) it also installs
# Chromium and the CJK fonts (fonts-noto-cjk, so that the zh-CN screenshots show Chinese, not boxes)
# from Debian when they are missing; `npm start` needs neither.
# Idempotent: a finished app (marker file) is kept; a half-made one is made again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="${E2E_APP_DIR:-$here/.app}"
version="${NOCOBASE_VERSION:-2.2.15}"
port="${E2E_APP_PORT:-13000}"

ensure_chromium() {
  if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then return; fi
  if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then return; fi
  echo "[setup-app] installing Chromium from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

ensure_cjk_fonts() {
  if dpkg -s fonts-noto-cjk >/dev/null 2>&1; then return; fi
  echo "[setup-app] installing the CJK fonts from Debian (fonts-noto-cjk)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
}

ensure_app() {
  if [ -f "$app/.ready-$version" ]; then return; fi
  echo "[setup-app] first start: creating NocoBase $version in $app from the npm registry"
  echo "[setup-app] (once: about 3 to 7 minutes and 1.1 GB; later starts take seconds)"
  rm -rf "$app"
  mkdir -p "$(dirname "$app")"
  local parent; parent="$(dirname "$app")"
  local name; name="$(basename "$app")"
  (cd "$parent" && npx -y "create-nocobase-app@$version" "$name" -d sqlite --skip-dev-dependencies >/dev/null)
  cd "$app"
  # sqlite3 for the database, yarn because the CLI's install step calls it, and an xlsx override
  # because @nocobase/ai points at a tarball on a host that cannot be reached.
  node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    p.name = "nocobase-webhook-e2e-app"; // the folder name (".app") is not a valid package name
    p.dependencies = { ...p.dependencies, sqlite3: "^5.1.7", yarn: "^1.22.22" };
    p.overrides = { ...(p.overrides || {}), xlsx: "0.18.5" };
    fs.writeFileSync("package.json", JSON.stringify(p, null, 2) + "\n");
  '
  printf 'legacy-peer-deps=true\n' > .npmrc
  # A plain node process (no pm2), on the chosen port.
  sed -i -e "s/^APP_PORT=.*/APP_PORT=$port/" .env
  grep -q '^APP_LAUNCH_MODE=' .env || printf '\nAPP_LAUNCH_MODE=node\n' >> .env
  # Progress while npm works quietly: the size of what has arrived so far.
  ( while sleep 20; do echo "[setup-app] installing packages: $(du -sm node_modules 2>/dev/null | cut -f1) MB of about 1100"; done ) &
  local progress=$!
  npm install --no-audit --no-fund --legacy-peer-deps >/dev/null || { kill "$progress"; exit 1; }
  kill "$progress" 2>/dev/null || true
  echo "[setup-app] creating the database"
  npx nocobase-v1 install -f >/dev/null
  touch ".ready-$version"
  echo "[setup-app] NocoBase $version ready in $app"
}

if [ "${1:-}" = "--browser" ]; then
  ensure_chromium
  ensure_cjk_fonts
fi
ensure_app
