import { configFromEnv, type QuireConfig, readConfigFile, resolveConfig } from '../config.js';

/**
 * The service's config as `quire serve` would resolve it (defaults < QUIRE_CONFIG < environment < --config <
 * --data), without loading the server: an import must normalise page addresses exactly as the service does.
 */
export function portConfig(dataDir: string | undefined, configFile: string | undefined): QuireConfig {
  const env = process.env;
  return resolveConfig(
    env.QUIRE_CONFIG ? readConfigFile(env.QUIRE_CONFIG) : undefined,
    configFromEnv(env),
    configFile === undefined ? undefined : readConfigFile(configFile),
    dataDir === undefined ? undefined : { dataDir },
  );
}
