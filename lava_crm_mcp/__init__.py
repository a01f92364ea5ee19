"""lava-crm-mcp: an MCP server for the Lava CRM."""

__version__ = "0.1.0"
