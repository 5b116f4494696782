// `npm run schema`: writes the rules file's JSON Schema (for editor completion) beside the
// example rules file, in this package.
import { writeFile } from 'node:fs/promises';
import { rulesFileJsonSchema } from './rules-file.js';

const target = new URL('../nudge.rules.schema.json', import.meta.url);
await writeFile(target, `${JSON.stringify(rulesFileJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
