// Test-only re-exports: the package API plus internals some tests check.
export * from '../src/index.js';
export { udpPortBound as udpPortBoundForTests } from '../src/proc.js';
