import { promisedOutput, runReadmeExample } from '@pathquic/vitest-config/readme';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasOpenssl)('README', () => {
  it('its HTTP/3 example runs with the certificate its openssl command makes', async () => {
    const { code, calls } = await runReadmeExample({
      pkgDir,
      packageName: 'pathquic',
      prepare: ({ dir, code: source, intro }) => {
        const command = /`(openssl req [^`]+)`/.exec(intro)?.[1];
        if (command === undefined) throw new Error('the README example lost its openssl command');
        execFileSync('openssl', command.split(/\s+/).slice(1), { cwd: dir, stdio: 'ignore' });
        return source.replaceAll("'cert.pem'", JSON.stringify(join(dir, 'cert.pem'))).replaceAll("'key.pem'", JSON.stringify(join(dir, 'key.pem')));
      },
    });
    expect(calls).toEqual([[200, 'hello over HTTP/3']]);
    expect(promisedOutput(code)).toEqual(['200 hello over HTTP/3']);
  });
});
