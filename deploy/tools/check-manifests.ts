/** Renders each overlay and prints every schema, strict-field and cross-reference problem; exits 1 if any. */
import { crossReferenceProblems, overlays, render, schemaProblems, strictFieldProblems } from './manifests.ts';

let failed = false;
for (const overlay of overlays) {
  const objects = render(overlay);
  const problems = [...(await schemaProblems(objects)), ...strictFieldProblems(objects), ...crossReferenceProblems(objects)];
  process.stdout.write(`${overlay}: ${objects.length} objects, ${problems.length} problems\n`);
  for (const p of problems) process.stdout.write(`  ${p}\n`);
  failed ||= problems.length > 0;
}
process.exitCode = failed ? 1 : 0;
