export {
  DEFAULT_MAX_CONNECTION_RECEIVE_WINDOW,
  DEFAULT_MAX_STREAM_RECEIVE_WINDOW,
  DEFAULT_QUANTUM_BYTES,
  DEFAULT_SEND_BUFFER_SIZE,
  StreamManager,
} from './stream-manager.js';
export type { StreamEvent, StreamLayerFrame, StreamLimits, StreamManagerOptions, StreamManagerStats } from './types.js';
export { StreamError, type StreamErrorCode } from './errors.js';
export {
  initiatorOf,
  isBidirectional,
  isLocallyInitiated,
  isServerInitiated,
  makeStreamId,
  streamIndex,
  type Role,
} from './stream-id.js';
export { RangeSet } from './range-set.js';
