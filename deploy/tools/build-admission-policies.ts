/**
 * Writes deploy/k8s/policies/ from deploy/tools/admission-policies.ts: `npx tsx deploy/tools/build-admission-policies.ts`.
 * test/admission-policies.test.ts fails when the files are not what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { admissionPolicyFiles, policiesDir } from './admission-policies.ts';

for (const [file, text] of admissionPolicyFiles()) writeFileSync(join(policiesDir, file), text);
