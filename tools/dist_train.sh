#!/usr/bin/env bash
# Multi-process training on one machine: tools/dist_train.sh CONFIG NPROC [train.py options]
# GPUs train with NCCL; without GPUs the processes train on the CPU with gloo.
set -euo pipefail
CONFIG=$1
NPROC=$2
shift 2
PORT=${PORT:-29500}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$HERE/train.py" "$CONFIG" --launcher pytorch "$@"
