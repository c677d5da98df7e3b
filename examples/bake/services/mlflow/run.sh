#!/bin/sh
# mlflow: answers --check (the health check) and otherwise says what it is.
[ "$1" = "--check" ] && exit 0
echo "mlflow $(cat /etc/mlflow-version) on $(uname -m)"
