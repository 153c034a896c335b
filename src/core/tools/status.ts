/**
 * The `status` tool: what this principal reaches (databases, modes, enabled tools, limits,
 * readiness), its pending approvals, audit sink counters and the server version.
 * Audited as one `status` event. Does not: go through precheck (it answers while shutting down
 * or with a degraded audit sink, so operators and agents can see why calls are refused).
 */
import { effectiveLimits, toolEnabled } from '../principals.js';
import type { CallContext } from '../call/context.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { ok, type Outcome } from '../results.js';
import { VERSION } from '../version.js';

export async function status(p: CallPlumbing, ctx: CallContext): Promise<Outcome<Record<string, unknown>>> {
  const view = p.principal(ctx.principal);
  const cfg = p.deps.config;
  const databases = await Promise.all(
    (view?.databases ?? []).map(async (name) => {
      const pol = p.policyFor(ctx.principal, name);
      const db = p.deps.databases.get(name);
      const tools = (['query', 'explain', 'describe', 'check', 'execute', 'revert'] as const).filter((t) => toolEnabled(pol, t));
      return {
        name,
        description: cfg.databases[name]?.description,
        mode: pol?.mode,
        ready: db ? await db.ready().catch(() => false) : false,
        tools,
        limits: effectiveLimits(cfg, name, pol),
        searchPath: cfg.databases[name]?.search_path,
        role: pol?.role !== undefined ? 'pinned' : 'connection role',
      };
    }),
  );
  p.audit(p.baseEvent(ctx, 'status', 'allowed'));
  return ok({
    principal: ctx.principal,
    policy: view?.policyName,
    observe: view?.observe ?? false,
    databases,
    pendingApprovals: await pendingApprovals(p, ctx.principal),
    audit: p.deps.audit.stats(),
    server: { version: VERSION, shuttingDown: p.shuttingDown },
  });
}

async function pendingApprovals(p: CallPlumbing, principal: string): Promise<Record<string, unknown>[]> {
  if (!p.deps.writes) return [];
  try {
    const pending = await p.deps.writes.approvals.pendingFor(principal);
    return pending.map((a) => ({ approvalId: a.approvalId, database: a.database, status: a.status, createdAt: a.createdAt, expiresAt: a.expiresAt, blastRadius: a.blastRadius, statement: a.normalizedSql }));
  } catch {
    return [];
  }
}
