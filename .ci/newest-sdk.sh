#!/usr/bin/env bash
# The suite again on the newest mcp 2.x that PyPI serves (our pin is mcp>=2.3,<3), with whatever it pulls in.
exec bash "$(dirname "$0")/newest.sh" mcp "mcp>=2.3,<3" free
