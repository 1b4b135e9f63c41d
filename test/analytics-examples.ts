/**
 * The example questions of docs/analytics.md ("## Ten questions": a `### N. title` heading and one ```sql block
 * each), read from the document itself so that what the tests and the bench run is what analysts read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExampleQuery {
  readonly number: number;
  readonly title: string;
  readonly sql: string;
}

export const analyticsDoc = join(import.meta.dirname, '..', 'docs', 'analytics.md');

export function exampleQueries(markdown = readFileSync(analyticsDoc, 'utf8')): ExampleQuery[] {
  const section = /^## Ten questions\n([\s\S]*?)(?=^## )/m.exec(markdown)?.[1];
  if (section === undefined) throw new Error(`${analyticsDoc}: no "## Ten questions" section`);
  return [...section.matchAll(/^### (\d+)\. (.+)\n+```sql\n([\s\S]*?)```/gm)].map((m) => ({
    number: Number(m[1]),
    title: m[2]!.trim(),
    sql: m[3]!.trim(),
  }));
}
