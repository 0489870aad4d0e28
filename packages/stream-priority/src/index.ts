export { StreamPriorityError, type StreamPriorityErrorCode } from './errors.js';
export {
  DEFAULT_QUANTUM,
  MAX_STREAMS,
  PRIORITY_DEFAULT,
  PRIORITY_HIGHEST,
  PRIORITY_LOWEST,
  StreamScheduler,
  type AddStreamOptions,
  type SchedulingScheme,
  type StreamHandle,
  type StreamInfo,
  type StreamSchedulerOptions,
} from './scheduler.js';
export {
  DEFAULT_HTTP_PRIORITY,
  INCREMENTAL_DEFAULT,
  URGENCY_BAND,
  URGENCY_DEFAULT,
  URGENCY_MAX,
  parsePriorityField,
  priorityFromHttp,
  serializePriorityField,
  tryParsePriorityField,
  urgencyFromPriority,
  type HttpPriority,
  type PriorityFromHttpOptions,
  type SerializePriorityOptions,
  type StreamPriority,
} from './http-priority.js';
export { parseSfDictionary, type SfBareItem, type SfMember } from './structured-fields.js';
