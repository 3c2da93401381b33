// Reading collection answers the way clients do: the Link header, the X-Pagination-* headers,
// and walking rel links from page to page.
import assert from 'node:assert/strict'
import type { LightMyRequestResponse } from 'fastify'
import type { TestAccount } from './harness.ts'
import { validOffering } from './offerings.ts'

/** The harness answers as host localhost:80 over http. */
export const ORIGIN = 'http://localhost:80'

/**
 * rel -> path and query of the Link header, after checking its exact shape: `<absolute url>;
 * rel="x"` parts joined by `, `, no raw comma inside a URL, no other link parameter, no
 * rel="last", and the rels in the order first, prev, next.
 */
export function links(res: LightMyRequestResponse): Record<string, string> {
  const header = res.headers.link
  if (header === undefined) return {}
  assert.equal(typeof header, 'string')
  const found: Record<string, string> = {}
  const parts = (header as string).split(', ')
  for (const part of parts) {
    const m = /^<([^<>,\s]+)>; rel="(first|prev|next)"$/.exec(part)
    assert.ok(m, `malformed Link part: ${part}`)
    assert.ok(m[1].startsWith(`${ORIGIN}/v1/`), `not absolute: ${m[1]}`)
    assert.ok(!(m[2] in found), `rel ${m[2]} twice`)
    found[m[2]] = m[1].slice(ORIGIN.length)
  }
  const order = ['first', 'prev', 'next'].filter((rel) => rel in found)
  assert.deepEqual(Object.keys(found), order, 'rels out of order')
  return found
}

export interface Pagination {
  perPage: number
  currentPage: number
  totalPages: number
  totalEntries: number
  throttled: boolean
}

export function pagination(res: LightMyRequestResponse): Pagination {
  const number = (name: string) => {
    const value = res.headers[name]
    assert.match(String(value), /^\d+$/, `${name}: ${value}`)
    return Number(value)
  }
  return {
    perPage: number('x-pagination-per-page'),
    currentPage: number('x-pagination-current-page'),
    totalPages: number('x-pagination-total-pages'),
    totalEntries: number('x-pagination-total-entries'),
    throttled: res.headers['x-pagination-throttled'] === 'true',
  }
}

export interface Walked {
  pages: Array<{ ids: number[]; currentPage: number; url: string }>
  ids: number[]
}

/** Follows `rel` from `url` until there is none; asserts every page answers 200. */
export async function walk(account: TestAccount, url: string, rel: 'next' | 'prev', between?: (page: number) => Promise<void>): Promise<Walked> {
  const pages: Walked['pages'] = []
  let next: string | undefined = url
  while (next) {
    const res = await account.call('GET', next)
    assert.equal(res.statusCode, 200, res.body)
    const ids = (res.json() as Array<{ id: number }>).map((r) => r.id)
    pages.push({ ids, currentPage: pagination(res).currentPage, url: next })
    next = links(res)[rel]
    assert.ok(pages.length < 500, 'walk does not end')
    if (between) await between(pages.length)
  }
  return { pages, ids: pages.flatMap((p) => p.ids) }
}

let made = 0

/** Creates an offering with a unique reference (so names may repeat); returns its body. */
export async function offering(account: TestAccount, serviceInstanceId: number, extra: Record<string, unknown> = {}) {
  const res = await account.call('POST', '/v1/app_offerings', validOffering(serviceInstanceId, { reference: `${account.id}_r${++made}`, ...extra }))
  assert.equal(res.statusCode, 201, res.body)
  return res.json()
}
