#!/bin/sh
# api: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "api $(cat /etc/api-version) on $(uname -m)"
