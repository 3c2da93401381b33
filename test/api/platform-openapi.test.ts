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

    it('documents the attachment routes: the storage answer, the multipart upload and avatar, the download', () => {
      const storage = document.paths['/v1/attachments/storage'].get.responses['200'].content['application/json'].schema
      assert.deepEqual(Object.keys(storage.properties), ['provider', 'upload_uri', 'size_limit', 'allowed_extensions', 'local'])
      const upload = document.paths['/v1/attachments'].post.requestBody.content['multipart/form-data'].schema
      assert.deepEqual(Object.keys(upload.properties).at(-1), 'file', 'the file is sent last')
      assert.equal(upload.properties.file.format, 'binary')
      assert.ok(document.paths['/v1/attachments'].post.responses['422'])
      assert.ok(document.paths['/v1/attachments/{id}/download'].get.responses['404'])
      const avatar = document.paths['/v1/app_offerings/{id}/avatar'].post
      assert.deepEqual(Object.keys(avatar.requestBody.content['multipart/form-data'].schema.properties), ['avatar_file_name', 'avatar'])
      assert.ok(avatar.responses['200'].content['application/json'].schema.properties.picture_uri)
      const record = document.paths['/v1/app_offerings/{id}'].get.responses['200'].content['application/json'].schema
      const list = record.properties.attachments.anyOf?.find((s: Json) => s.type === 'array') ?? record.properties.attachments
      assert.deepEqual(Object.keys(list.items.properties), ['id', 'name', 'size', 'content_type', 'inline', 'field', 'uri'])
    })

    it('declares the bearer token, and which routes need none', () => {
      assert.deepEqual(document.components.securitySchemes.bearerAuth, { ...document.components.securitySchemes.bearerAuth, type: 'http', scheme: 'bearer' })
      assert.deepEqual(document.security, [{ bearerAuth: [] }])
      assert.deepEqual(document.paths['/v1/openapi.json'].get.security, [])
      assert.equal(document.paths['/v1/app_offerings'].get.security, undefined)
    })

    it('names this server, describes every status, gives examples, and does not demand a defaulted reference', async () => {
      assert.deepEqual(document.servers, [{ url: 'http://localhost:80', description: 'this server' }])
      const proxied = await request(h().app, 'GET', '/v1/openapi.json', undefined, { host: 'api.example.test:8443' })
      assert.equal(proxied.json().servers[0].url, 'http://api.example.test:8443')
      for (const [path, item] of Object.entries<Json>(document.paths)) {
        for (const [method, operation] of Object.entries<Json>(item)) {
          for (const [status, response] of Object.entries<Json>(operation.responses ?? {})) {
            assert.notEqual(response.description, 'Default Response', `${method} ${path} ${status}`)
          }
        }
      }
      assert.match(document.paths['/v1/app_offerings'].post.responses['201'].description, /^Created/)
      const create = document.paths['/v1/app_offerings'].post.requestBody.content['application/json']
      assert.ok(create.schema.properties.reference, 'reference may be sent')
      assert.ok(!create.schema.required.includes('reference'), 'reference is defaulted from the name')
      assert.deepEqual(create.schema.required.sort(), ['name', 'policy_jwt_alg', 'service_instance_id', 'webhook_uri_template'])
      assert.equal(create.example.policy_jwt_alg, 'rs256')
      // The example is a body the server accepts.
      const account = await h().account()
      const si = (await account.call('POST', '/v1/service_instances', document.paths['/v1/service_instances'].post.requestBody.content['application/json'].example)).json()
      const created = await account.call('POST', '/v1/app_offerings', { ...create.example, service_instance_id: si.id })
      assert.equal(created.statusCode, 201, created.body)
      for (const path of ['/v1/me', '/v1/people/me', '/v1/people/{id}', '/v1/people/{id}/teams']) assert.ok(document.paths[path]?.get, path)
    })

    it('renders /docs with Swagger UI served from this host, and nothing from elsewhere', async () => {
      const res = await request(h().app, 'GET', '/docs')
      assert.equal(res.statusCode, 200)
      assert.match(res.headers['content-type'] as string, /^text\/html/)
      const csp = String(res.headers['content-security-policy'])
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /script-src 'self'(;|$)/)
      assert.doesNotMatch(csp, /https?:|\*|unsafe-eval/)
      // Every file the page loads is a path of this host, and answers with its type.
      const urls = [...res.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])
      assert.ok(urls.length >= 3, res.body)
      assert.doesNotMatch(res.body, /https?:\/\/|\/\/[a-z]/i, 'nothing off-host')
      const types: Record<string, RegExp> = { css: /^text\/css/, js: /^text\/javascript/, png: /^image\/png/, json: /^application\/json/ }
      for (const url of urls) {
        assert.ok(url.startsWith('/'), url)
        const asset = await request(h().app, 'GET', url)
        assert.equal(asset.statusCode, 200, url)
        assert.match(String(asset.headers['content-type']), types[url.split('.').at(-1)!], url)
      }
      assert.ok(urls.includes('/docs/assets/swagger-ui-bundle.js'))
      const bundle = await request(h().app, 'GET', '/docs/assets/swagger-ui-bundle.js')
      assert.ok(bundle.body.length > 100_000 && bundle.body.includes('SwaggerUIBundle'), 'the viewer itself')
      const init = await request(h().app, 'GET', '/docs/assets/init.js')
      assert.match(init.body, /url: '\/v1\/openapi\.json'/)
      assert.match(init.body, /validatorUrl: null/)
      assert.doesNotMatch(init.body, /https?:\/\//)
      for (const name of ['../package.json', 'swagger-ui.js.map', 'index.html', '..%2Fpackage.json']) {
        assert.equal((await request(h().app, 'GET', `/docs/assets/${name}`)).statusCode, 404, name)
      }
    })
  })
}
