import { explainFallback } from './errors.js';
import type { MptcpFallbackReason } from './errors.js';
import { loadNative } from './native.js';
import { createMptcpFd, mptcpDisabledByEnv } from './socket.js';

export type MptcpAvailability = { available: true } | { available: false; reason: MptcpFallbackReason; message: string };

/** Whether this process can open MPTCP sockets now (opens and closes one IPv4 MPTCP socket to find out). */
export function mptcpAvailability(): MptcpAvailability {
  if (mptcpDisabledByEnv()) return { available: false, reason: 'disabled', message: `${explainFallback('disabled')} (PATHQUIC_MPTCP=0)` };
  const made = createMptcpFd(4);
  if ('fd' in made) {
    loadNative().binding?.close(made.fd);
    return { available: true };
  }
  if ('error' in made) throw made.error;
  return { available: false, reason: made.reason, message: made.detail === undefined ? explainFallback(made.reason) : `${explainFallback(made.reason)}: ${made.detail}` };
}
