#!/bin/sh
# otel: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "otel $(cat /etc/otel-version) on $(uname -m)"
