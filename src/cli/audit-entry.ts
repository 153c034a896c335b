/** `pgwarden audit verify|stats FILE…` — the work lives in src/cli/audit.ts. */
export { auditCli } from './audit.js';
