export * from './errors.js';
export * from './varint.js';
export * from './buffer.js';
export * from './crypto/provider.js';
