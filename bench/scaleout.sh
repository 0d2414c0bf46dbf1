#!/usr/bin/env bash
# Scale-out benchmark, every configuration measured in one run on this
# machine: the embedded default (POSIX log + SQLite), the log in MariaDB
# with the projection in PostgreSQL, and two servers sharing that log.
# Each row also carries loadgen's own same-run baseline (bare Tessera on
# the local disk), so figures are read as ratios.
#
#   bash bench/scaleout.sh [N] [CONCURRENCY]        closed loop
#   RATE=400 bash bench/scaleout.sh [N] [MAX_IN_FLIGHT]   open loop at RATE/s
#
# Needs MariaDB on 127.0.0.1:3306 (root, no password) and PostgreSQL on
# 127.0.0.1:5432 (trust); .ci/run shows how to start both.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
CONC=${2:-512}
MYSQL_ROOT=${MYSQL_ROOT:-"root@tcp(127.0.0.1:3306)/"}
PG=${PG:-"postgres://postgres@127.0.0.1:5432"}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/guarantor" ./cmd/guarantor
g="$work/guarantor"

fresh_mysql() { mariadb -uroot -h127.0.0.1 -e "DROP DATABASE IF EXISTS $1; CREATE DATABASE $1"; echo "${MYSQL_ROOT}$1"; }
fresh_pg() { psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; echo "$PG/$1?sslmode=disable"; }
serve() { # data port flags...
  local data=$1 port=$2; shift 2
  "$g" serve --data "$data" --addr "127.0.0.1:$port" --log-level warn --tick 1h "$@" >"$work/serve-$port.out" 2>&1 &
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "server on $port did not start: $(cat "$work/serve-$port.out")" >&2; exit 1
}
stop() { kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; }
load() { # label servers data
  local out
  local shape=(--concurrency "$CONC")
  [ -n "${RATE:-}" ] && shape+=(--rate "$RATE")
  out=$("$g" loadgen --server "$2" --data "$3" --n "$N" "${shape[@]}" --audit=false --json --baseline-dir "$work/baseline" 2>/dev/null)
  echo "{\"config\":\"$1\",\"report\":$out}"
}

# 1. Embedded default: POSIX log and SQLite projection in the data directory.
"$g" init --data "$work/e" >/dev/null
serve "$work/e" 18180
load "embedded (POSIX + SQLite), 1 server" http://127.0.0.1:18180 "$work/e"
stop

# 2. MariaDB log, PostgreSQL projection, one server.
my=$(fresh_mysql guarantor_bench_1)
"$g" init --data "$work/m1" --mysql "$my" >/dev/null
serve "$work/m1" 18181 --mysql "$my" --postgres "$(fresh_pg guarantor_bench_1)"
load "MariaDB + PostgreSQL, 1 server" http://127.0.0.1:18181 "$work/m1"
stop

# 3. The same, two servers sharing the log (each its own projection).
my=$(fresh_mysql guarantor_bench_2)
"$g" init --data "$work/m2a" --mysql "$my" >/dev/null
"$g" init --join "$work/m2a" --data "$work/m2b" >/dev/null
serve "$work/m2a" 18182 --mysql "$my" --postgres "$(fresh_pg guarantor_bench_2a)"
serve "$work/m2b" 18183 --mysql "$my" --postgres "$(fresh_pg guarantor_bench_2b)"
load "MariaDB + PostgreSQL, 2 servers" http://127.0.0.1:18182,http://127.0.0.1:18183 "$work/m2a"
stop
