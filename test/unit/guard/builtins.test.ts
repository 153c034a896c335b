/**
 * The reviewed classification of pg_catalog functions (src/guard/builtins.ts) against the
 * PostgreSQL 15 fixture, and the server facts the issue #9 red team used: each must be catalog
 * access under `catalogs: false`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALLOWED_BUILTINS, CATALOG_BUILTINS } from '../../../src/guard/builtins.js';
import { builtinClass, isSafeSetting } from '../../../src/guard/functions.js';

const pg15 = JSON.parse(readFileSync(new URL('./fixtures/pg15-catalog.json', import.meta.url), 'utf8')) as { functions: Record<string, string[]> };

describe('builtin classification', () => {
  it('classifies every pg_catalog function of PostgreSQL 15', () => {
    const names = [...new Set(Object.values(pg15.functions).flat())];
    expect(names.length).toBeGreaterThan(2500);
    expect(names.filter((n) => builtinClass(n) === 'unclassified')).toEqual([]);
  });

  it('keeps every name sorted and in one class only', () => {
    for (const list of [...Object.values(ALLOWED_BUILTINS), ...Object.values(CATALOG_BUILTINS)]) {
      expect([...list]).toEqual([...list].sort());
    }
    const all = [...Object.values(ALLOWED_BUILTINS).flat(), ...Object.values(CATALOG_BUILTINS).flat()];
    expect(all.length).toBe(new Set(all).size);
  });

  it.each([
    'version', 'inet_server_addr', 'inet_server_port', 'inet_client_addr', 'inet_client_port', 'pg_backend_pid',
    'pg_postmaster_start_time', 'pg_conf_load_time', 'current_setting', 'current_user', 'session_user', 'current_database',
    'current_schema', 'current_schemas', 'pg_current_wal_lsn', 'pg_walfile_name', 'pg_current_snapshot', 'txid_current_snapshot',
    'pg_database_size', 'pg_tablespace_size', 'pg_stat_have_stats', 'to_regnamespace', 'to_regrole', 'to_regcollation',
    'to_regoper', 'to_regoperator', 'format_type', 'oidvectortypes', 'pg_is_in_recovery', 'getpgusername', 'mxid_age',
    'pg_collation_for', 'pg_get_userbyid', 'has_table_privilege', 'pg_table_is_visible', 'obj_description', 'regclassout',
  ])('%s is catalog access', (name) => {
    expect(builtinClass(name)).toBe('catalog');
  });

  it('an unknown name is unclassified (treated as catalog access by the guard)', () => {
    expect(builtinClass('pg_future_function_of_pg_99')).toBe('unclassified');
  });

  it('reads only the safe settings, case-insensitively', () => {
    expect(isSafeSetting('TimeZone')).toBe(true);
    expect(isSafeSetting('DATESTYLE')).toBe(true);
    for (const s of ['data_directory', 'config_file', 'app.jwt_secret', 'server_version', 'search_path', 'port', undefined]) {
      expect(isSafeSetting(s)).toBe(false);
    }
  });
});
