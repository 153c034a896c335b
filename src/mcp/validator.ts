/**
 * One JSON-schema validator for every per-request McpServer.
 *
 * createMcpHandler builds a fresh McpServer per HTTP request; each McpServer otherwise builds its
 * own AJV instance (`new DefaultJsonSchemaValidator()`), which dominated the cost of a stateless
 * call (sharing one doubled throughput, see STACK-NOTES). Pass this to the server options:
 *   new McpServer(info, { jsonSchemaValidator: sharedJsonSchemaValidator })
 * AJV caches compiled schemas by identity, so sharing is safe across requests.
 */
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';

export const sharedJsonSchemaValidator = new AjvJsonSchemaValidator();
