import { openTenantctl, type RawConfig, type Tenantctl } from '../../src/index.js';
import { REPO } from './cli.js';

/** The library, opened on a test database with the repository's example migrations. */
export function openOn(url: string, config: RawConfig = {}): Promise<Tenantctl> {
  return openTenantctl({ databaseUrl: url, cwd: REPO, config, readConfigFile: false });
}
