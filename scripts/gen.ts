// `npm run gen`: regenerates wsdl/ and src/xml/generated/ from xsd/ and xsd/manifest/*.json
// (the generator lives in src/contracts/gen/). Exits 1 with the reason on a bad manifest or schema.
import path from 'node:path';
import { generate, writeGenerated } from '../src/contracts/gen/generate.ts';

const root = path.resolve(import.meta.dirname, '..');

try {
  const files = await generate(root);
  const { written, removed } = writeGenerated(files, root);
  for (const file of written) console.log(`wrote   ${file}`);
  for (const file of removed) console.log(`removed ${file}`);
  console.log(`${files.length} generated files, ${written.length} changed, ${removed.length} removed`);
} catch (err) {
  console.error(`npm run gen: ${(err as Error).message}`);
  process.exitCode = 1;
}
