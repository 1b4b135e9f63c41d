/** Every subcommand of `carbon`, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerAnalyticsCommand } from './analytics.ts';
import { registerBacktestCommand } from './backtest.ts';
import { registerIngestCommand } from './ingest.ts';
import { registerModelsCommand } from './models.ts';
import { registerPredictCommand } from './predict.ts';
import { registerSqlCommand } from './sql.ts';
import { registerStatusCommand } from './status.ts';
import { registerStartCommands } from './start.ts';
import { registerTenantsCommand } from './tenants.ts';
import { registerUsageCommand } from './usage.ts';
import { registerTrainCommand } from './train.ts';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerStartCommands, registerStatusCommand, registerIngestCommand, registerTrainCommand, registerModelsCommand, registerBacktestCommand, registerPredictCommand, registerSqlCommand, registerAnalyticsCommand, registerTenantsCommand, registerUsageCommand];
