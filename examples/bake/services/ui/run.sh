#!/bin/sh
# ui: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "ui $(cat /etc/ui-version) on $(uname -m)"
