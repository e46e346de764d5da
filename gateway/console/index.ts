import { dirname, join } from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';
import express, { type Express, type Request, type Response } from 'express';

/**
 * The payments console at `/` (static HTML, CSS and JS that talk only to this gateway:
 * HTTP and graphql-ws on /graphql) and, outside production, GraphiQL at `/graphiql`.
 * Browser libraries are served from node_modules, never from a CDN.
 */
export interface ConsoleOptions {
  /** Production serves the console but not GraphiQL (an IDE is a development tool). */
  production: boolean;
}

const PUBLIC = join(__dirname, 'public');
const GRAPHIQL = join(__dirname, 'graphiql');

/** A file inside an installed package (resolved from its main entry, since `exports` hides the rest). */
function packageFile(pkg: string, entry: string, file: string): string {
  let dir = dirname(require.resolve(entry));
  while (!dir.endsWith(join('node_modules', pkg))) {
    if (dirname(dir) === dir) throw new Error(`cannot find the ${pkg} package folder for ${file}`);
    dir = dirname(dir);
  }
  return join(dir, file);
}

/** Vendored browser builds: URL name → file in node_modules. */
const CONSOLE_VENDOR: Record<string, string> = {
  'graphql-ws.js': packageFile('graphql-ws', 'graphql-ws', 'umd/graphql-ws.min.js'),
};
const GRAPHIQL_VENDOR: Record<string, string> = {
  'react.js': packageFile('react', 'react', 'umd/react.production.min.js'),
  'react-dom.js': packageFile('react-dom', 'react-dom', 'umd/react-dom.production.min.js'),
  'graphiql.js': packageFile('graphiql', 'graphiql', 'graphiql.min.js'),
  'graphiql.css': packageFile('graphiql', 'graphiql', 'graphiql.min.css'),
};

// Same origin only: no script, style, font or connection may leave the gateway. The socket
// origin is named too: older browsers do not count ws:/wss: as 'self'.
const contentSecurityPolicy = (host: string) => [
  "default-src 'self'",
  `connect-src 'self' ws://${host} wss://${host}`,
  "img-src 'self' data:",
  "font-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

// Host header syntax only (name or address, optional port): it is echoed into a header.
const HOST = /^[A-Za-z0-9.\-\[\]:]{1,255}$/;

function secureHeaders(req: Request, res: Response): void {
  const host = HOST.test(req.headers.host ?? '') ? req.headers.host! : 'localhost';
  res.setHeader('content-security-policy', contentSecurityPolicy(host));
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
}

function serveVendor(app: Express, files: Record<string, string>): void {
  for (const [name, file] of Object.entries(files)) {
    app.get(`/console/vendor/${name}`, (req, res) => {
      secureHeaders(req, res);
      res.sendFile(file, { maxAge: '1d' });
    });
  }
}

export function mountConsole(app: Express, options: ConsoleOptions): void {
  app.get('/', (req, res) => {
    secureHeaders(req, res);
    res.sendFile(join(PUBLIC, 'index.html'));
  });
  app.use('/console', (req, res, next) => (secureHeaders(req, res), next()), express.static(PUBLIC, { index: false, maxAge: 0 }));
  serveVendor(app, CONSOLE_VENDOR);
  if (options.production) return;
  serveVendor(app, GRAPHIQL_VENDOR);
  app.get('/graphiql', (req, res) => {
    secureHeaders(req, res);
    res.sendFile(join(GRAPHIQL, 'index.html'));
  });
  app.get('/graphiql/init.js', (req, res) => {
    secureHeaders(req, res);
    res.sendFile(join(GRAPHIQL, 'init.js'));
  });
}

/**
 * Outside production, a browser opening /graphql is sent to the bundled GraphiQL instead of
 * Apollo's default landing page, which loads its IDE from a CDN (and fails offline).
 */
export function graphiqlLandingPage(): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return {
            html: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>paygraph</title>' +
              '<meta http-equiv="refresh" content="0; url=/graphiql"></head>' +
              '<body><p>GraphiQL: <a href="/graphiql">/graphiql</a> · console: <a href="/">/</a></p></body></html>',
          };
        },
      };
    },
  };
}
