import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';

/**
 * The floor for one hop: a Node HTTP proxy that does nothing but forward. `POST /<subgraph>/graphql`
 * goes to that subgraph's `/graphql` over a keep-alive pool with the caller's headers (the
 * load signs its requests for the subgraph's own path), and the answer comes back as it came.
 * No parsing, auth, planning or metrics: what is left of a gateway's cost on a single-subgraph
 * operation once everything a gateway does is gone. Opt-in target `proxy` of bench/gateways.ts.
 */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value;
  return result;
}

function main(): void {
  const upstreams = JSON.parse(process.env.BENCH_UPSTREAMS ?? '{}') as Record<string, string>;
  const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });
  const server = createServer((req, res) => {
    const upstream = upstreams[(req.url ?? '').split('/')[1] ?? ''];
    if (!upstream || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const call = request(upstream, { method: 'POST', agent, headers: { ...forwardable(req.headers), 'content-length': String(body.length) } }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const text = Buffer.concat(parts);
          res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'application/json', 'content-length': text.length }).end(text);
        });
      });
      call.on('error', () => res.writeHead(502).end());
      call.end(body);
    });
  });
  server.listen(Number(process.env.BENCH_GATEWAY_PORT), '127.0.0.1', () => console.log('READY'));
}

main();
