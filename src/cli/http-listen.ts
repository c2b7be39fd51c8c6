/**
 * Listening with a node:http server the way the CLI's servers do (`export prometheus`,
 * `playground`): wait until it listens or fails, and close it with its open
 * connections (a browser's keep-alive connection would hold `close()` otherwise).
 * @module
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A listening server. */
export interface ListeningServer {
  /** The address it listens on (the port chosen when 0 was asked). */
  readonly address: AddressInfo;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Starts `server` on `host:port`.
 * @throws Error from listen (EADDRINUSE, EACCES...).
 */
export async function listen(server: Server, host: string, port: number): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
