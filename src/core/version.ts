/** The package version the server reports (MCP initialize, status, CLI); test/unit/release pins it to package.json. */
export const VERSION = '0.1.0';
