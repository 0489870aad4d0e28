/** QUIC frames: model, decoder, encoder and packet/frame rules. */
export * from './types.js';
export * from './decode.js';
export * from './encode.js';
export * from './rules.js';
