// Every crypto provider configuration the vector and round-trip tests run against.
import { createNodeCryptoProvider, nobleCryptoProvider, nodeCryptoProvider, type CryptoProvider } from '../src/index.js';

export const TEST_PROVIDERS: Array<[string, CryptoProvider]> = [
  ['node (wasm-ct)', nodeCryptoProvider],
  ['node+openssl', createNodeCryptoProvider({ aesGcm: 'openssl' })],
  ['node+wasm-table', createNodeCryptoProvider({ aesGcm: 'wasm-table' })],
  ['noble', nobleCryptoProvider],
];
