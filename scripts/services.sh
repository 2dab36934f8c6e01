#!/usr/bin/env bash
# Install (from Debian's packages, when missing) and start the real servers the tests use, on loopback,
# in a temporary directory. Source it: it exports OPENEM_TEST_PG_URL, OPENEM_TEST_NATS_URL,
# OPENEM_TEST_MQTT_PORT and defines stop_services.
set -uo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need+=(postgresql-15-postgis-3)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)  # the crime matcher's Spark engine
if [ ${#need[@]} -gt 0 ]; then
  echo "==> apt-get install ${need[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

SVC_DIR=$(mktemp -d /tmp/openem-services.XXXXXX)
chmod 755 "$SVC_DIR"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# PostgreSQL 15 + PostGIS (initdb refuses root: run it as the postgres user)
PG_PORT=$(free_port)
mkdir -p "$SVC_DIR/pg" && chown postgres:postgres "$SVC_DIR/pg"
su postgres -c "/usr/lib/postgresql/15/bin/initdb -D $SVC_DIR/pg/data -A trust -U postgres" >"$SVC_DIR/initdb.log" 2>&1
su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $SVC_DIR/pg/data -l $SVC_DIR/pg/log -w -o '-p $PG_PORT -k $SVC_DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200' start" >/dev/null
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE openem_test" >/dev/null
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d openem_test -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
export OPENEM_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/openem_test"
export OPENEM_TEST_PG_ADMIN_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"

# NATS with JetStream
NATS_PORT=$(free_port)
nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$SVC_DIR/nats" >"$SVC_DIR/nats.log" 2>&1 &
NATS_PID=$!
export OPENEM_TEST_NATS_URL="nats://127.0.0.1:$NATS_PORT"

# Mosquitto (MQTT)
MQTT_PORT=$(free_port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQTT_PORT" >"$SVC_DIR/mosquitto.conf"
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$MOSQ" -c "$SVC_DIR/mosquitto.conf" >"$SVC_DIR/mosquitto.log" 2>&1 &
MQTT_PID=$!
export OPENEM_TEST_MQTT_PORT="$MQTT_PORT"

for _ in $(seq 1 50); do
  (echo > /dev/tcp/127.0.0.1/$NATS_PORT) 2>/dev/null && (echo > /dev/tcp/127.0.0.1/$MQTT_PORT) 2>/dev/null && break
  sleep 0.1
done
echo "==> services: PostgreSQL :$PG_PORT, NATS :$NATS_PORT, MQTT :$MQTT_PORT ($SVC_DIR)"

stop_services() {
  su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D $SVC_DIR/pg/data -m immediate stop" >/dev/null 2>&1 || true
  kill "$NATS_PID" "$MQTT_PID" 2>/dev/null || true
  wait "$NATS_PID" "$MQTT_PID" 2>/dev/null || true
  rm -rf "$SVC_DIR"
}
