/** Every subcommand of `carbon`, in the order `--help` lists them. */
import type { Command } from 'commander';
import { registerIngestCommand } from './ingest.ts';
import { registerStartCommands } from './start.ts';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [registerStartCommands, registerIngestCommand];
