/** Writes the Grafana dashboards of deploy/grafana/ from their definitions in dashboards.ts. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboardFiles, grafanaDir } from './dashboards.ts';

for (const [file, text] of dashboardFiles()) {
  writeFileSync(join(grafanaDir, file), text);
  process.stdout.write(`wrote ${join(grafanaDir, file)}\n`);
}
