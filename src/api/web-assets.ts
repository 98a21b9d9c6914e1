/**
 * The web report page: plain files from src/web (ES modules, no build step), served with a strict Content
 * Security Policy: only our own script and style, no inline code, no framing.
 */
import { readFileSync } from 'node:fs';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from './context.ts';

const WEB_DIR = new URL('../web/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/core.js': { file: 'core.js', type: 'text/javascript; charset=utf-8' },
  '/assets/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/assets/views.js': { file: 'views.js', type: 'text/javascript; charset=utf-8' },
  '/assets/drill.js': { file: 'drill.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Adds the page and its assets (read once, at start: they are part of the release). */
export function registerWebRoutes(app: OpenAPIHono<ApiEnv>): void {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const content = readFileSync(new URL(file, WEB_DIR), 'utf8');
    app.get(path, (c) =>
      c.body(content, 200, {
        'Content-Type': type,
        'Content-Security-Policy': CSP,
        // Revalidate each time: a new release must not meet an old script in the cache.
        'Cache-Control': 'no-cache',
        'Referrer-Policy': 'no-referrer',
      }),
    );
  }
}
