// Run by proc.test.ts in a separate Node process: starts a guarded command and prints the command's pid, then
// waits to be killed.
import { spawnGuarded } from '../src/proc.js';

spawnGuarded('/bin/sh', ['-c', 'echo $$; exec sleep 30'], { onStdout: (c) => process.stdout.write(c) });
