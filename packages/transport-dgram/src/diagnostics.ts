/** Process-wide counters, e.g. for tests and leak checks: how many sockets this package holds open. */
import type { Socket } from 'node:dgram';

let openSockets = 0;

/** @internal */
export function trackSocket(socket: Socket): void {
  openSockets++;
  socket.once('close', () => {
    openSockets--;
  });
}

export interface TransportDiagnostics {
  /** UDP sockets opened by connect()/listen() and not yet closed (a client's closes after its draining period). */
  readonly openSockets: number;
}

export function transportDiagnostics(): TransportDiagnostics {
  return { openSockets };
}
