/** The package's UDP sockets: one way to create them (buffer sizes, literal lookup) and bind/connect as promises. */
import { createSocket, type Socket } from 'node:dgram';
import { SOCKET_BUFFER_BYTES, literalLookup } from './options.js';

/** A UDP socket of `family`; `ipv6Only: false` lets a '::' socket serve IPv4 peers as ::ffff:a.b.c.d. */
export function createUdpSocket(family: 4 | 6, options: { ipv6Only?: boolean } = {}): Socket {
  return createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    ...(options.ipv6Only !== undefined && { ipv6Only: options.ipv6Only }),
    lookup: literalLookup,
    recvBufferSize: SOCKET_BUFFER_BYTES,
    sendBufferSize: SOCKET_BUFFER_BYTES,
  });
}

/** Runs `start` and settles with the socket's 'error' or with `start`'s callback, whichever comes first. */
function settled(socket: Socket, start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    socket.once('error', onError);
    start(() => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** bind(); `exclusive` so that the port is not shared with cluster workers. */
export function bindUdp(socket: Socket, port: number, address: string | undefined): Promise<void> {
  return settled(socket, (done) => socket.bind({ port, ...(address !== undefined && { address }), exclusive: true }, done));
}

/** connect(): sends need no address (no route lookup per datagram) and only `address`:`port` is heard. */
export function connectUdp(socket: Socket, port: number, address: string): Promise<void> {
  return settled(socket, (done) => socket.connect(port, address, done));
}
