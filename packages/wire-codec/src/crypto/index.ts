/** Everything in src/crypto: the provider contract, both providers, key schedule, Initial keys and Retry integrity. */
export * from './provider.js';
export * from './noble.js';
export * from './node.js';
export * from './hkdf-label.js';
export * from './keys.js';
export * from './initial.js';
export * from './retry.js';
export * from './fast-gcm.js';
