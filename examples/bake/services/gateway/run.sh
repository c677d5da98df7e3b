#!/bin/sh
# gateway: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "gateway $(cat /etc/gateway-version) on $(uname -m)"
