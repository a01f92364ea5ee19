"""`python -m lava_crm_mcp`: the lava-crm-mcp command."""

from lava_crm_mcp.cli import main

raise SystemExit(main())
