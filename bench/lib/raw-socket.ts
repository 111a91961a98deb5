import type { Socket } from 'node:net';
import type WebSocket from 'ws';

/**
 * The TCP socket under an open `ws` WebSocket (ws keeps it as `_socket`), for the benches that
 * write ready-made frames to it. The service does the same, more carefully, in BoundedSender.
 */
export function rawSocketOf(socket: WebSocket): Socket {
  return (socket as unknown as { _socket: Socket })._socket;
}
