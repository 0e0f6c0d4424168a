#!/bin/sh
# Docker CLI plugin shim: `docker compose ...` runs Debian's Compose (v1.29) with the same arguments.
if [ "${1:-}" = docker-cli-plugin-metadata ]; then
  printf '{"SchemaVersion":"0.1.0","Vendor":"Dockyard","Version":"%s","ShortDescription":"Docker Compose"}\n' \
    "$(docker-compose version --short 2>/dev/null || echo 1.29)"
  exit 0
fi
shift # the plugin name, "compose"
exec docker-compose "$@"
