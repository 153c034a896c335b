import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp directory with the given files; returns its path. */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-config-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  return dir;
}

export const TOKEN_A = 'tok-a-0123456789abcdefghijklmnopqrstuvwxyz';
export const TOKEN_B = 'tok-b-0123456789abcdefghijklmnopqrstuvwxyz';
export const DSN = 'postgres://reader:s3cr3t-pw@db.example:5432/shop';

/** A minimal valid YAML config (HTTP, one principal with a raw token from ${TOKEN}). */
export const MINIMAL_YAML = `
databases:
  main:
    url: \${DB_URL}
principals:
  analyst:
    policy: analyst
    tokens:
      - token: \${TOKEN}
policies:
  analyst:
    databases:
      main:
        schemas: [app]
`;
