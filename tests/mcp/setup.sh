#!/usr/bin/env bash
# Installs the official Python MCP client (PyPI, pinned) into tests/mcp/.venv for crates/sextant-cli/tests/mcp.rs.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
.venv/bin/python -c 'import mcp.client.stdio, mcp.client.streamable_http' 
