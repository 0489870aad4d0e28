export { Simulator, Timer } from './simulator.js';
export type { EventId, SimulatorOptions } from './simulator.js';
export { EventQueue } from './event-queue.js';
export type { EventHandler } from './event-queue.js';
export { Random } from './random.js';
export { Link } from './link.js';
export type {
  DropObserver,
  DropReason,
  LinkConfig,
  LinkOptions,
  LinkStats,
  Packet,
  Receiver,
  Sized,
} from './link.js';
export { Path, bdpBytes, duplex } from './path.js';
export { DeliveryMeter, jainIndex, utilisation } from './measure.js';
