#!/bin/sh
# api: migrate then serve; migrate: one-shot migrations; relay / consumers: workers alone.
set -e
cd /app
case "${1:-api}" in
  migrate) exec alembic -c "services/${SERVICE}/alembic.ini" upgrade head ;;
  api)
    alembic -c "services/${SERVICE}/alembic.ini" upgrade head
    exec python -m "sop_${SERVICE}" ;;
  relay) exec python -m "sop_${SERVICE}.relay" ;;
  consumers) exec python -m "sop_${SERVICE}.consumers" ;;
  *) exec "$@" ;;
esac
