import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';

/**
 * Subgraph calls (the gateway's, and the internal calls between subgraphs) over Node's HTTP
 * client with one keep-alive pool per process, answering with the status, headers and whole
 * body as text. Under load the global fetch (undici with WHATWG streams, an AbortSignal timer
 * per call, a Response to wrap it) was the largest share of the gateway's own CPU in the
 * benchmark's profile; a buffered body over a pooled socket is less.
 */
export interface SubgraphRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  /** The call fails with a TimeoutError unless the whole answer arrives within this many ms. */
  timeoutMs: number;
}

// Sockets stay open between calls; enough per subgraph for the gateway's concurrent fetches.
// As many idle sockets kept as may be open: closing the surplus after a burst means reconnecting for the next.
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });
const tlsAgent = new TlsAgent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo' });

export interface SubgraphReply {
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Target {
  tls: boolean;
  hostname: string;
  port: number;
  path: string;
}

// A gateway calls the same few subgraph URLs: parse each once, into the options http.request
// takes (given a URL, it converts it again on every call).
const targets = new Map<string, Target>();

function targetOf(url: string): Target {
  let target = targets.get(url);
  if (!target) {
    const parsed = new URL(url);
    const tls = parsed.protocol === 'https:';
    // URL keeps IPv6 literals bracketed; http.request wants the bare address.
    target = { tls, hostname: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port) || (tls ? 443 : 80), path: `${parsed.pathname}${parsed.search}` };
    targets.set(url, target);
  }
  return target;
}

export function subgraphFetch(url: string, init: SubgraphRequest): Promise<SubgraphReply> {
  const { tls, hostname, port, path } = targetOf(url);
  return new Promise<SubgraphReply>((resolve, reject) => {
    const req = (tls ? tlsRequest : request)(
      { hostname, port, path, method: init.method, agent: tls ? tlsAgent : agent, headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 502, statusText: res.statusMessage ?? '', headers: res.headers, body: body.toString('utf8') });
        });
      },
    );
    // A deadline for the whole call (headers and body), not only an idle socket: a subgraph
    // that trickles its answer must not hold the request past its timeout.
    const deadline = setTimeout(() => req.destroy(Object.assign(new Error(`subgraph did not answer within ${init.timeoutMs} ms`), { name: 'TimeoutError' })), init.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', reject);
    // A string body leaves with the head in one write; a Buffer would take a second one (writev).
    req.end(init.body);
  });
}
