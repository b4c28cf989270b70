#!/usr/bin/env bash
# Install what is missing, then start Tiering Studio on the bundled sample.
# Extra arguments go to streamlit, e.g. bash scripts/start.sh --server.port 8600
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$PROJECT_DIR/scripts/install.sh"
cd "$PROJECT_DIR"

# Streamlit refuses larger uploads before the app sees them, so its own limit
# follows TIERING_MAX_UPLOAD_MB when that is set (else .streamlit/config.toml).
limit_args=()
if [[ -n "${TIERING_MAX_UPLOAD_MB:-}" ]]; then
  limit_args=(--server.maxUploadSize "$TIERING_MAX_UPLOAD_MB")
fi
exec .venv/bin/streamlit run app.py --server.headless true "${limit_args[@]}" "$@"
