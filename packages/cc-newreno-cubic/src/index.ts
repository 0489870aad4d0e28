export type { AckInfo, EcnCodepoint, PacketNumberSpace, RecoveryContext, SentPacket } from './types.js';
export { K_GRANULARITY, K_INITIAL_RTT, RttEstimator } from './rtt.js';
export {
  K_PACKET_THRESHOLD,
  K_PERSISTENT_CONGESTION_THRESHOLD,
  K_TIME_THRESHOLD,
  LossDetection,
  PACKET_NUMBER_SPACES,
  SentPacketRing,
  type AckResult,
  type LossDetectionOptions,
  type LossDetectionTimer,
  type TimeoutResult,
} from './loss-detection.js';
export {
  CUBIC_ALPHA,
  CUBIC_BETA,
  CUBIC_C,
  CubicController,
  K_LOSS_REDUCTION_FACTOR,
  NewRenoController,
  createCongestionController,
  initialWindow,
  minimumWindow,
  type AckedPacketInfo,
  type CongestionControlAlgorithm,
  type CongestionController,
  type CongestionControllerOptions,
  type LostPacketInfo,
  type RttSnapshot,
} from './congestion.js';
export {
  HYSTART_CSS_GROWTH_DIVISOR,
  HYSTART_CSS_ROUNDS,
  HYSTART_MAX_RTT_THRESH,
  HYSTART_MIN_RTT_DIVISOR,
  HYSTART_MIN_RTT_THRESH,
  HYSTART_N_RTT_SAMPLE,
  HYSTART_UNPACED_L,
  HyStart,
  hystartRttThreshold,
} from './hystart.js';
export { PACING_BURST_PACKETS, PACING_GAIN, Pacer, type PacerOptions } from './pacer.js';
export {
  ECN_TESTING_PACKETS,
  ECN_TESTING_PTOS,
  EcnValidator,
  type EcnAckInput,
  type EcnAckOutcome,
  type EcnCounts,
  type EcnFailureReason,
  type EcnValidationState,
  type EcnValidatorOptions,
} from './ecn.js';
