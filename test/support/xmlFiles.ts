// Small helpers shared by the schema conformance tests.
import fs from 'node:fs';
import type { ValidationResult } from '../../src/xml/schema.ts';

/** The .xml files of a folder, sorted; none when the folder does not exist. */
export function xmlFiles(dir: string): string[] {
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.xml'))
        .sort()
    : [];
}

/** A validation result as readable text for assertion messages. */
export function messages(result: ValidationResult): string {
  return result.ok ? '(valid)' : result.violations.map((v) => `line ${v.line}: ${v.message}`).join('\n');
}
