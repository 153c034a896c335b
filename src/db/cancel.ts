/**
 * Cancel a running statement with the protocol's CancelRequest (what libpq's PQcancel sends):
 * a fresh socket to the server carrying the backend's process id and secret key.
 *
 * Guarantees: needs no authentication and no pool slot (works when the pool is exhausted);
 * bounded by a timeout; never throws. Does not: confirm that the statement was cancelled (the
 * server does not answer): callers must treat the connection as unusable afterwards, because a
 * late cancel could hit the next statement on that backend.
 */
import { connect, type Socket } from 'node:net';

const CANCEL_REQUEST_CODE = 80877102;

export interface CancelTarget {
  /** Host name/IP, or a unix socket directory (starts with '/'). */
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

/** pg.Client keeps these (public, undocumented) after connecting. */
export function cancelTargetOf(client: unknown): CancelTarget | undefined {
  const c = client as { host?: unknown; port?: unknown; processID?: unknown; secretKey?: unknown };
  if (typeof c.host !== 'string' || typeof c.port !== 'number' || typeof c.processID !== 'number' || typeof c.secretKey !== 'number') {
    return undefined;
  }
  return { host: c.host, port: c.port, processID: c.processID, secretKey: c.secretKey };
}

export async function sendCancelRequest(target: CancelTarget, timeoutMs = 2_000): Promise<boolean> {
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  packet.writeInt32BE(target.processID, 8);
  packet.writeInt32BE(target.secretKey, 12);
  return await new Promise<boolean>((resolve) => {
    let socket: Socket;
    let settled = false;
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    try {
      socket = target.host.startsWith('/') ? connect(`${target.host}/.s.PGSQL.${target.port}`) : connect(target.port, target.host);
    } catch {
      clearTimeout(timer);
      resolve(false);
      return;
    }
    socket.on('error', () => done(false));
    socket.on('connect', () => {
      socket.end(packet);
    });
    // The server closes the connection after reading the request.
    socket.on('close', () => done(true));
  });
}
