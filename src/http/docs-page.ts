// The /docs page: Swagger UI (swagger-ui-dist, maintained by SmartBear, MIT) rendering
// /v1/openapi.json. Its files are served from the installed package by this server, so the page
// works on a closed network; the CSP lets it load this host's files and nothing else.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
export const VIEWER_VERSION: string = JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8')).version

/** The files the page needs, by the name they are served under /docs/assets/. */
const ASSETS: Record<string, { file?: string; type: string; text?: string }> = {
  'swagger-ui.css': { file: 'swagger-ui.css', type: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': { file: 'swagger-ui-bundle.js', type: 'text/javascript; charset=utf-8' },
  'favicon-32x32.png': { file: 'favicon-32x32.png', type: 'image/png' },
  'favicon-16x16.png': { file: 'favicon-16x16.png', type: 'image/png' },
  // The initializer is ours: a file rather than an inline script, so the CSP needs no 'unsafe-inline' for scripts.
  'init.js': {
    type: 'text/javascript; charset=utf-8',
    text: `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/v1/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    // The public validator badge would send the document to validator.swagger.io.
    validatorUrl: null,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    persistAuthorization: false,
    tryItOutEnabled: false,
  })
})
`,
  },
}

export const ASSET_NAMES = Object.keys(ASSETS)

/**
 * What the page may load: scripts, styles and images of this host (data: images are Swagger
 * UI's inline SVG icons), requests to this host (the document and "Try it out"). Swagger UI sets
 * style attributes from its scripts, hence 'unsafe-inline' for styles only.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const loaded = new Map<string, Buffer>()

/** An asset's body and content type, or undefined for a name that is not one. */
export function docsAsset(name: string): { body: Buffer; type: string } | undefined {
  const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined
  if (!asset) return undefined
  let body = loaded.get(name)
  if (!body) {
    body = asset.text !== undefined ? Buffer.from(asset.text) : readFileSync(join(DIST, asset.file!))
    loaded.set(name, body)
  }
  return { body, type: asset.type }
}

export function docsPage(title: string): string {
  const escaped = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escaped}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/docs/assets/favicon-16x16.png" sizes="16x16">
</head>
<body>
<noscript>This reference needs JavaScript. The OpenAPI document itself is at <a href="/v1/openapi.json">/v1/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
`
}
