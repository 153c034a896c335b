/**
 * The MCP-surface configuration shared by the predefined-tools and client-matrix end-to-end tests:
 * an analyst (raw read tools + one predefined read tool), a narrow principal given ONLY predefined
 * tools (a read, a masked read, a write held above 0 rows), an operator resource and prompt.
 */
export const SURFACE_TOKENS = {
  analyst: 'pgw_pdanalyst_e2e_0123456789abcdefghijklmnopq',
  narrow: 'pgw_pdnarrow_e2e_0123456789abcdefghijklmnopqrs',
  operator: 'pgw_pdoperator_e2e_0123456789abcdefghijklmnop',
} as const;

export function predefinedToolsConfig(): Record<string, unknown> {
  return {
    orders_by_status: {
      title: 'Orders by status',
      description: 'The most recent orders in one status.',
      database: 'shop',
      sql: 'SELECT id, status, total_cents FROM app.orders WHERE status = $1 ORDER BY id LIMIT $2',
      parameters: [
        { name: 'status', type: 'enum', values: ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'], description: 'Order status.' },
        { name: 'limit', type: 'integer', min: 1, max: 20, default: 5, description: 'How many orders.' },
      ],
      policies: ['analyst', 'narrow'],
    },
    customer_contacts: {
      description: 'Contacts of customers by id (emails are masked).',
      database: 'shop',
      sql: 'SELECT id, email FROM app.customers WHERE id = ANY($1::bigint[]) ORDER BY id',
      parameters: [{ name: 'ids', type: 'array', items: { type: 'integer', min: 1 }, max_items: 10, required: true }],
      principals: ['narrow'],
    },
    close_tickets: {
      title: 'Close tickets of a customer',
      description: 'Close every open support ticket of one customer. Large closures wait for an operator.',
      database: 'shop',
      sql: 'UPDATE app.support_tickets SET closed_at = now() WHERE customer_id = $1 AND closed_at IS NULL',
      parameters: [{ name: 'customer_id', type: 'integer', min: 1 }],
      policies: ['narrow'],
    },
  };
}

export function surfaceConfig(databaseUrl: string, auditPath: string, tokens: { analyst: string; narrow: string; operator: string }): Record<string, unknown> {
  const analystDb = { mode: 'read-only', schemas: ['app'], tables: { deny: ['internal.*'] } };
  const narrowDb = {
    mode: 'read-write',
    schemas: ['app'],
    tables: { deny: ['internal.*'] },
    tools: { query: false, explain: false, describe: false, check: false, execute: false, revert: false },
    masks: { 'app.customers.email': { mask: 'email' } },
    writes: { confirm_above_rows: 0, block_above_rows: 100 },
  };
  return {
    server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
    log: { level: 'warn' },
    audit: { sink: 'file', path: auditPath, fsync: 'never' },
    masking: { hash_key: 'e2e-hash-key-0123456789abcdef' },
    databases: { shop: { url: databaseUrl, search_path: ['app'] } },
    principals: {
      analyst: { policy: 'analyst', tokens: [{ token: tokens.analyst }] },
      narrow: { policy: 'narrow', tokens: [{ token: tokens.narrow }] },
    },
    operators: { ops: { tokens: [{ token: tokens.operator }] } },
    policies: { analyst: { databases: { shop: analystDb } }, narrow: { databases: { shop: narrowDb } } },
    tools: predefinedToolsConfig(),
    resources: {
      order_counts: { title: 'Orders per status', description: 'How many orders are in each status.', database: 'shop', sql: 'SELECT status, count(*) AS n FROM app.orders GROUP BY status ORDER BY status', policies: ['analyst', 'narrow'] },
      daily_summary: { uri: 'finance://daily_summary', description: 'Orders per day.', database: 'shop', sql: 'SELECT count(*) AS orders FROM app.orders', policies: ['analyst'] },
      order: {
        uri: 'orders://order/{id}',
        description: 'One order by id.',
        database: 'shop',
        sql: 'SELECT id, status FROM app.orders WHERE id = $1::bigint',
        parameters: [{ name: 'id', type: 'string', pattern: '^[0-9]{1,18}$', description: 'Order id.' }],
        policies: ['analyst'],
      },
    },
    prompts: {
      triage: {
        title: 'Triage tickets',
        arguments: [{ name: 'priority', values: ['low', 'normal', 'high', 'urgent'], required: true, description: 'Ticket priority.' }, { name: 'note', required: false }],
        text: 'Triage the {{priority}} tickets. {{note}}',
        policies: ['narrow'],
      },
    },
  };
}
