/** Public surface of the config module. */
export * from './schema.js';
export { ConfigError, isConfigError } from './errors.js';
export {
  loadConfig,
  parseConfig,
  configVersion,
  parseYaml,
  substituteEnv,
  resolveSecretRefs,
  deepMerge,
  formatZodIssues,
  ENV_DATABASE,
  ENV_POLICY,
  ENV_PRINCIPAL,
  type ConfigInput,
  type ConfigOverrides,
  type LoadConfigOptions,
  type ParseConfigOptions,
} from './load.js';
export { validateConfig, MIN_TOKEN_LENGTH, type ValidateOptions } from './validate.js';
export { redactConfig, redactDsn, REDACTED } from './redact.js';
export { resolveLimits, effectivePolicy, reachableDatabases, type EffectivePolicy } from './effective.js';
export { allKeyPaths, formatPath } from './introspect.js';
