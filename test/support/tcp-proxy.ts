/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for fault tests: `drop()` cuts every open
 * connection (the server stays up: a dropped connection), `close()` refuses new connections until
 * `open()` (the server is unreachable: an outage, as its clients see it).
 */
import { type Server, type Socket, createServer, connect } from 'node:net';

export interface TcpProxy {
  port: number;
  url(scheme: string): string;
  drop(): void;
  close(): Promise<void>;
  open(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client);
        sockets.add(upstream);
        const done = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', done).on('close', done);
        upstream.on('error', done).on('close', done);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });

  const drop = () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };

  await listen();
  return {
    get port() {
      return port;
    },
    url: (scheme) => `${scheme}://127.0.0.1:${port}`,
    drop,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        drop();
      });
    },
    open: listen,
    async dispose() {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
