/**
 * ConfigError: why a configuration could not be loaded, as a list of path-qualified issues
 * (`databases.main.pool.max: expected number…`).
 *
 * Guarantees: issue texts name YAML paths, environment variable names and file paths, never
 * the values (no DSN, password or token). Does not: decide how the CLI reports it (exit code,
 * formatting beyond `message`).
 */
export class ConfigError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[], heading = 'invalid configuration') {
    const list = issues.length > 0 ? issues : ['unknown problem'];
    super(`${heading}:\n${list.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = list;
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
