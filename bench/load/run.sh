#!/usr/bin/env bash
# The load test: HomeFirst under gunicorn and a Celery worker, driven by locust, then checked.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/homefirst_load \
#   REDIS_URL=redis://127.0.0.1:6379/13 \
#   bench/load/run.sh [USERS] [RUN_TIME] [OUT_DIR]
#
# USERS defaults to 230 (200 ward staff, 20 social workers, 10 system leaders, by the
# locustfile's weights), RUN_TIME (seconds) to 300 of steady load after every user has signed
# in, OUT_DIR to /tmp/homefirst-load/<time>. Use a database of its own: the run seeds the
# demo city there if it is empty, adds the load users and fills the audit history. The app
# runs with the local settings and DEBUG off (plain HTTP on 127.0.0.1, so no secure-only
# cookies), gunicorn with 2 x cores + 1 sync workers (WORKERS=...), one Celery worker for the
# dashboards' recompute, on PORT (8765). Users sign in SPAWN_RATE (2) a second; the
# locustfile resets the statistics once the last has signed in, so the CSV files cover the
# steady load only (the sign-in phase's figures are kept in sign_in.json).
#
# Leaves in OUT_DIR: users.json, edits.jsonl (every save), locust_*.csv, locust.log,
# check.txt and check.json (the database check), uptime and vmstat around and during the run,
# ps_samples.txt and cpu.txt (CPU used by the app, its database connections, locust and
# everything else), and the server's logs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
USERS="${1:-230}"
RUN_TIME="${2:-300}"
OUT="${3:-/tmp/homefirst-load/$(date +%Y%m%d-%H%M%S)}"
PORT="${PORT:-8765}"
WORKERS="${WORKERS:-$(($(nproc) * 2 + 1))}"
SPAWN_RATE="${SPAWN_RATE:-2}"
: "${DATABASE_URL:?Set DATABASE_URL to the load test's own database}"
: "${REDIS_URL:?Set REDIS_URL to a Redis database of the load test's own}"

export DATABASE_URL REDIS_URL
export DJANGO_SETTINGS_MODULE=homefirst.settings.local DEBUG=false LOG_LEVEL=WARNING
export SECRET_KEY="${SECRET_KEY:-$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(64))')}"
export LOAD_USERS="$OUT/users.json" LOAD_EDIT_LOG="$OUT/edits.jsonl"
export LOAD_STEADY_SECONDS="$RUN_TIME" LOAD_SIGN_IN_STATS="$OUT/sign_in.json"
# Whitenoise wants the directory; the clients fetch no static files (a browser caches them).
export STATIC_ROOT="$OUT/static"
mkdir -p "$OUT" "$STATIC_ROOT"
cd "$ROOT"

# A safety limit only: the locustfile ends the run RUN_TIME seconds after the last sign-in.
LIMIT=$((RUN_TIME + 1200))

echo "== preparing the database ($DATABASE_URL)"
"$VENV/bin/python" bench/load/prepare.py --out "$LOAD_USERS"
"$VENV/bin/python" -m celery -A homefirst purge -f >/dev/null

PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop EXIT

echo "== starting gunicorn ($WORKERS workers) and a Celery worker"
"$VENV/bin/gunicorn" homefirst.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "$WORKERS" >"$OUT/gunicorn.log" 2>&1 &
PIDS+=($!)
"$VENV/bin/python" -m celery -A homefirst worker -n load@%h -l warning --concurrency 1 \
  >"$OUT/celery.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 60); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break
  sleep 1
done

{ echo "cores: $(nproc)"; echo "before: $(uptime)"; } >"$OUT/uptime.txt"
vmstat -t 5 >"$OUT/vmstat.txt" &
PIDS+=($!)
# Every process's CPU time every 5 s, to tell the app's share of the machine from others'.
while true; do ps -eo pid=,time=,args=; echo "--- $(date +%s)"; sleep 5; done >"$OUT/ps_samples.txt" &
PIDS+=($!)

echo "== locust: $USERS users signing in $SPAWN_RATE a second, then ${RUN_TIME}s measured"
"$VENV/bin/locust" -f bench/load/locustfile.py --headless --host "http://127.0.0.1:$PORT" \
  --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "${LIMIT}s" \
  --csv "$OUT/locust" --stop-timeout 60 --exit-code-on-error 0 >"$OUT/locust.log" 2>&1

echo "after:  $(uptime)" >>"$OUT/uptime.txt"
ps -eo pid=,time=,args= >>"$OUT/ps_samples.txt"
echo "--- $(date +%s)" >>"$OUT/ps_samples.txt"
stop
trap - EXIT
cat "$OUT/uptime.txt"
"$VENV/bin/python" bench/load/cpu.py "$OUT/ps_samples.txt" --log "$LOAD_EDIT_LOG" \
  --database "$(basename "${DATABASE_URL%%\?*}")" | tee "$OUT/cpu.txt"

echo "== checking the database against the edit log"
"$VENV/bin/python" bench/load/check.py --log "$LOAD_EDIT_LOG" --locust-csv "$OUT/locust" \
  --json "$OUT/check.json" | tee "$OUT/check.txt"
