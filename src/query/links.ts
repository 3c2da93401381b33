// The response half of a collection: the Link header and the X-Pagination-* headers.
import { encodeCursor, sortSignature } from './cursor.ts'
import type { Plan } from './parse.ts'
import type { Count, PageInfo } from './paging.ts'

/** Percent-encodes all but RFC 3986's unreserved characters (encodeURIComponent leaves !'()*). */
export function encodeParam(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** Absolute URLs with every kept parameter, percent-encoded so no raw comma reaches a client. */
export function linkHeader(url: string, plan: Plan, info: PageInfo, count: Count, secret: string): string | undefined {
  const kept = plan.kept.map(([k, v]) => `${encodeParam(k)}=${encodeParam(v)}`)
  const to = (extra?: string) => {
    const params = extra ? [...kept, extra] : kept
    return params.length > 0 ? `${url}?${params.join('&')}` : url
  }
  // A cursor carries the count of the page it came from: a walk counts once, on its first page.
  const cursor = (name: string, values: unknown[], page: number) =>
    `${name}=${encodeParam(encodeCursor(secret, { sort: sortSignature(plan.sort), values, page, count }))}`

  const links: string[] = []
  if (plan.paging.kind === 'page') {
    if (info.hasPrev) links.push(`<${to('page=1')}>; rel="first"`, `<${to(`page=${info.page - 1}`)}>; rel="prev"`)
    if (info.hasNext) links.push(`<${to(`page=${info.page + 1}`)}>; rel="next"`)
  } else {
    if (info.hasPrev) {
      links.push(`<${to()}>; rel="first"`)
      if (info.first) links.push(`<${to(cursor('search_before', info.first, Math.max(1, info.page - 1)))}>; rel="prev"`)
    }
    if (info.hasNext && info.last) links.push(`<${to(cursor('search_after', info.last, info.page + 1))}>; rel="next"`)
  }
  return links.length > 0 ? links.join(', ') : undefined
}

export function paginationHeaders(plan: Plan, info: PageInfo, count: Count): Record<string, string> {
  const headers: Record<string, string> = {
    'x-pagination-per-page': String(plan.perPage),
    'x-pagination-current-page': String(info.page),
    'x-pagination-total-pages': String(Math.ceil(count.total / plan.perPage)),
    'x-pagination-total-entries': String(count.total),
  }
  if (count.throttled) headers['x-pagination-throttled'] = 'true'
  return headers
}
