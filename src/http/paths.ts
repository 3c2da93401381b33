// The forms of a path the real API accepts besides the canonical one, mapped onto it once, before
// routing (Fastify's rewriteUrl): a trailing `/` (`POST /v1/app_offerings/`), a `.json` suffix
// (`GET /v1/app_offerings/12.json`, the Rails format suffix), and `ids=` as another name of the
// `id` filter. Everything after routing sees the canonical URL (request.url), so Link headers,
// Location and the request log name the canonical path; request.originalUrl keeps what was sent.

// The one route whose own name ends in `.json`.
const KEEPS_SUFFIX = /\/openapi\.json$/

export function canonicalUrl(url: string): string {
  const q = url.indexOf('?')
  let path = q === -1 ? url : url.slice(0, q)
  let query = q === -1 ? undefined : url.slice(q + 1)
  if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '') || '/'
  if (path.endsWith('.json') && !KEEPS_SUFFIX.test(path) && path.length > '/.json'.length && path.at(-6) !== '/') path = path.slice(0, -5)
  if (query !== undefined && /(^|&)ids=/.test(query)) query = query.replace(/(^|&)ids=/g, '$1id=')
  return query === undefined ? path : `${path}?${query}`
}
