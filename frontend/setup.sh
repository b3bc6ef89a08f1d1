#!/usr/bin/env bash
# Front-end set-up, safe to run again: npm packages (three.js) into node_modules/, the files the
# pages import copied to frontend/static/frontend/vendor/ (served by Django, no CDN).
# With --browser also Debian's chromium and Playwright's Python driver, for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
npm run --silent vendor

if [ "${1:-}" = "--browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
  fi
  PYTHON="${PYTHON:-.venv/bin/python}"
  "$PYTHON" -c "import playwright" 2>/dev/null || "$PYTHON" -m pip install "playwright==1.65.2"
fi
