import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './url-guard';

/** What one POST came to. `result` is the metric label. */
export interface SendResult {
  ok: boolean;
  result: '2xx' | 'http_error' | 'timeout' | 'connection_error' | 'refused_address' | 'aborted' | 'error';
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** The most of a response body read (and thrown away): a receiver cannot make us buffer more. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * One POST to the checked address — the socket dials `target.address`, never a fresh DNS
 * answer, while Host and TLS SNI stay the URL's host — within `timeoutMs` from start to the
 * end of the response. Redirects are not followed: a 3xx is not an acknowledgement.
 */
export function postWebhook(target: CheckedTarget, headers: Record<string, string>, body: string, timeoutMs: number, stopping?: AbortSignal): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopping?.removeEventListener('abort', abort);
      resolve({ ...result, latencyMs: elapsed() });
    };
    const request = client.request(target.url, {
      method: 'POST',
      lookup: pinned,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body).toString(), 'user-agent': 'paygraph-webhooks/1', ...headers },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, result: 'timeout', statusCode: null, error: `no answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    // The process is stopping: cut the POST (the receiver may have it: at least once) rather than outlast the shutdown.
    const abort = () => {
      finish({ ok: false, result: 'aborted', statusCode: null, error: 'aborted: the sending process was stopping' });
      request.destroy();
    };
    if (stopping?.aborted) abort();
    else stopping?.addEventListener('abort', abort, { once: true });
    request.on('response', (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      const done = () => {
        const status = response.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        finish({ ok, result: ok ? '2xx' : 'http_error', statusCode: status, error: ok ? null : `HTTP ${status}` });
      };
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, result: 'connection_error', statusCode: null, error: error.code ?? error.message }));
    request.end(body);
  });
}
