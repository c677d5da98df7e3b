#!/bin/sh
# jobrunner: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "jobrunner $(cat /etc/jobrunner-version) on $(uname -m)"
