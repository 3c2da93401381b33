import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import { appOfferings } from '../../src/resources/app-offerings/fields.ts'
import { appOfferingRules } from '../../src/resources/app-offerings/rules.ts'
import { engines } from '../support/stores.ts'
import { request, useHarness } from '../support/harness.ts'

type Json = Record<string, any>

/** Every (path, method) the server routes, read from Fastify's route tree. */
function serverRoutes(tree: string): Array<[path: string, method: string]> {
  const routes: Array<[string, string]> = []
  const stack: string[] = []
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line)
    if (!match) continue
    const depth = match[1].length / 4
    stack.length = depth
    stack.push(match[2])
    const path = stack.join('').replace(/\/$/, '').replace(/:(\w+)/g, '{$1}') || '/'
    for (const method of match[3]?.split(', ') ?? []) if (method !== 'HEAD') routes.push([path, method])
  }
  return routes
}

for (const engine of engines) {
  describe(`OpenAPI document and reference page (${engine})`, () => {
    const h = useHarness(engine)
    let document: Json

    before(async () => {
      const res = await request(h().app, 'GET', '/v1/openapi.json')
      assert.equal(res.statusCode, 200)
      document = res.json()
    })

    it('is a valid OpenAPI 3.1 document, served without a token', async () => {
      assert.match(document.openapi, /^3\.1\./)
      const result = await new Validator().validate(document as never)
      assert.deepEqual(result, { valid: true })
    })

    it('documents every route of the server; the others answer 405', async () => {
      const account = await h().account()
      const routes = serverRoutes(h().app.printRoutes({ commonPrefix: false }))
      assert.ok(routes.length > 10, `read the route tree: ${JSON.stringify(routes)}`)
      for (const [path, method] of routes) {
        if (document.paths[path]?.[method.toLowerCase()]) continue
        const url = path.replace('{id}', '1')
        const res = await account.call(method, url)
        assert.equal(res.statusCode, 405, `${method} ${path} is neither documented nor refused`)
      }
      for (const path of ['/v1', '/v1/rate_limit', '/v1/openapi.json', '/healthz', '/readyz', '/docs', '/v1/app_offerings/{id}']) {
        assert.ok(document.paths[path], `${path} is documented`)
      }
    })

    it('lists every field with its limits, and the filter, fields, sort and paging parameters', () => {
      const list = document.paths['/v1/app_offerings'].get
      const parameters = new Map<string, Json>(list.parameters.map((p: Json) => [p.name, p]))
      for (const name of ['fields', 'sort', 'per_page', 'page', 'search_after', 'search_before', ...appOfferings.filterable.keys()]) {
        assert.ok(parameters.has(name), `query parameter ${name}`)
      }
      assert.deepEqual({ min: parameters.get('per_page')!.schema.minimum, max: parameters.get('per_page')!.schema.maximum }, { min: 1, max: 100 })
      assert.equal(parameters.get('x-4me-account')?.in, 'header')

      const record = list.responses['200'].content['application/json'].schema.items
      for (const field of appOfferings.readable) assert.ok(record.properties[field.name], `answer field ${field.name}`)
      const create = document.paths['/v1/app_offerings'].post.requestBody.content['application/json'].schema
      for (const field of appOfferings.writable) assert.ok(create.properties[field.input], `body field ${field.input}`)
      assert.equal(create.properties.name.maxLength, 128)
      assert.ok(create.required.includes('name'))
      assert.ok(create.properties.policy_jwt_alg.enum.includes('rs256'))
    })

    it('lists the predefined filters, the conditional headers and the error bodies', () => {
      for (const name of Object.keys(appOfferingRules.predefinedFilters ?? {})) assert.ok(document.paths[`/v1/app_offerings/${name}`]?.get, name)
      const show = document.paths['/v1/app_offerings/{id}'].get
      assert.ok(show.parameters.some((p: Json) => p.name === 'if-none-match'))
      assert.ok(show.responses['304'])
      const patch = document.paths['/v1/app_offerings/{id}'].patch
      assert.ok(patch.parameters.some((p: Json) => p.name === 'if-match'))
      for (const status of ['401', '403', '404', '409', '413', '415', '422', '429', '503']) {
        const body = patch.responses[status]?.content?.['application/json']?.schema
        assert.ok(body?.properties?.message, `PATCH documents ${status} with a message body`)
      }
      assert.ok(patch.responses['422'].content['application/json'].schema.properties.errors)
    })

    it('declares the bearer token, and which routes need none', () => {
      assert.deepEqual(document.components.securitySchemes.bearerAuth, { ...document.components.securitySchemes.bearerAuth, type: 'http', scheme: 'bearer' })
      assert.deepEqual(document.security, [{ bearerAuth: [] }])
      assert.deepEqual(document.paths['/v1/openapi.json'].get.security, [])
      assert.equal(document.paths['/v1/app_offerings'].get.security, undefined)
    })

    it('renders /docs as one self-contained page', async () => {
      const res = await request(h().app, 'GET', '/docs')
      assert.equal(res.statusCode, 200)
      assert.match(res.headers['content-type'] as string, /^text\/html/)
      assert.doesNotMatch(res.body, /<script|<link|src=|url\(/i, 'nothing fetched from elsewhere')
      for (const path of Object.keys(document.paths)) assert.ok(res.body.includes(path), `${path} on the page`)
      assert.ok(res.body.includes('at most 128 characters'), 'field limits on the page')
    })
  })
}
