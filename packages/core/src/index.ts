// Building blocks of the connection (issue 7 in progress): Connection and Endpoint will compose them.
export * from './ack-tracker.js';
export * from './reassembly.js';
export * from './flow-control.js';
export * from './address-token.js';
export * from './qlog.js';
