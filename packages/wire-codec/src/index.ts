export * from './errors.js';
export * from './varint.js';
export * from './buffer.js';
export * from './version.js';
export * from './packet-number.js';
export * from './header.js';
export * from './crypto/provider.js';
export * from './transport-params.js';
