/** Loopback CONNECT proxies for tests: every tunnel goes to one local port, whatever host name was asked for (like DNS would). */
import { createServer } from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface ConnectProxy {
  url: string;
  /** The CONNECT targets asked for (`host:port`), in order. */
  seen: string[];
  close(): Promise<void>;
}

export async function connectProxy(port: number): Promise<ConnectProxy> {
  const proxy = createServer();
  const seen: string[] = [];
  const tunnels = new Set<net.Socket>();
  proxy.on('connect', (req, client: net.Socket) => {
    seen.push(req.url ?? '');
    tunnels.add(client);
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      for (const t of tunnels) t.destroy();
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    },
  };
}
