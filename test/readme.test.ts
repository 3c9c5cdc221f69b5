// README is the operator's reference: it must document every variable nixa reads.
import { readFileSync } from 'node:fs';

import { CONFIG_VARIABLES } from '../src/config/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it.each([...CONFIG_VARIABLES, 'NIXA_CONFIG_FILE'])('documents %s in the configuration table', (variable) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${variable}\` \\|`, 'm'));
  });

  it('gives the commands a newcomer needs', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
