import { Logger, Module, type FactoryProvider } from '@nestjs/common';
import { CallModule } from '../call/call.module.js';
import { historyConfig, type HistoryConfig } from '../config/config.namespaces.js';
import { openHistoryDatabase } from './database/history-database.js';
import { HISTORY_DATABASE } from './history.constants.js';
import { HistoryService } from './history.service.js';
import { LiveCallCheck } from './live-call-check.js';

const databaseProvider: FactoryProvider = {
  provide: HISTORY_DATABASE,
  // PostgreSQL is reached (and migrated) before the app listens: unreachable at start is a
  // start-up failure. The embedded database opens in the background (history-database.ts).
  useFactory: async (cfg: HistoryConfig) => {
    if (!cfg.history) return null;
    const opened = await openHistoryDatabase(cfg);
    new Logger('History').log(
      opened.kind === 'postgres'
        ? 'call history in PostgreSQL (DATABASE_URL)'
        : `call history in the embedded database under ${cfg.dataDir} (opening)`,
    );
    return opened;
  },
  inject: [historyConfig.KEY],
};

/**
 * The call history (docs/history.md): every ended call kept in a database, searchable, with
 * erasure and retention. Its routes are surfaces' (HistoryApiModule for the API,
 * ConsoleHistoryController in the console), which may be switched off; the records are kept anyway.
 */
@Module({
  // CallModule for the registry: an erasure refuses a call live here (LiveCallCheck).
  imports: [CallModule],
  providers: [databaseProvider, HistoryService, LiveCallCheck],
  exports: [HistoryService],
})
export class HistoryModule {}
