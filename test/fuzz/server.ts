/**
 * A PostgreSQL for `npm run fuzz` outside vitest: a private server of the same kind as the test
 * suite's (embedded by default, PGWARDEN_TEST_PG_BIN for the machine's binaries), seeded with the
 * demo template, removed on dispose().
 */
import { modeFromEnv, seedTemplate, startPrivateServer, type SeededTemplate } from '../support/cluster.js';

export interface FuzzServer {
  adminUrl: string;
  template: SeededTemplate;
  dispose(): Promise<void>;
}

export async function startFuzzServer(): Promise<FuzzServer> {
  const mode = modeFromEnv();
  if (mode.mode === 'external') throw new Error('npm run fuzz starts its own PostgreSQL; unset PGWARDEN_TEST_DATABASE_URL');
  const priv = await startPrivateServer({ mode: mode.mode, ...(mode.binDir !== undefined ? { binDir: mode.binDir } : {}) });
  try {
    const adminUrl = priv.server.adminUrl;
    const template = await seedTemplate(adminUrl, 'fuzz_template', { gatewayRole: 'pgwarden_fuzz', readerRole: 'pgwarden_fuzz_reader' });
    return { adminUrl, template, dispose: () => priv.dispose() };
  } catch (err) {
    await priv.dispose();
    throw err;
  }
}
