import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mptcpAvailability } from '../src/index.js';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('README', () => {
  it('its example runs and prints what it says (the fallback output where MPTCP is unavailable)', async () => {
    const { code, calls } = await runReadmeExample({ pkgDir, packageName: '@pathquic/transport-mptcp' });
    const printed = calls.map((args) => format(...args));
    const promised = promisedOutput(code);
    expect(promised).toEqual(['true true true', 'hello over MPTCP']);
    expect(printed).toEqual(mptcpAvailability().available ? promised : ['false false false', 'hello over MPTCP']);
  });
});
