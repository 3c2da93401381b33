// The /docs page: the OpenAPI document rendered as one self-contained HTML page (no scripts, no
// fonts, nothing fetched), so it works on a closed network and under a strict CSP.

type Json = Record<string, any>

const METHODS = ['get', 'post', 'put', 'patch', 'delete']

const escape = (text: unknown) =>
  String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** "string, at most 128", "integer 1–525600", "one of a, b", ... */
function describeType(schema: Json | undefined): string {
  if (!schema) return ''
  if (schema.anyOf) return schema.anyOf.map(describeType).join(' or ')
  if (schema.enum) return `one of ${schema.enum.join(', ')}`
  const parts = [Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'object')]
  if (schema.format) parts.push(`(${schema.format})`)
  if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`)
  if (schema.minimum !== undefined || schema.maximum !== undefined) parts.push(`${schema.minimum ?? ''}–${schema.maximum ?? ''}`)
  if (schema.type === 'array' && schema.items) parts.push(`of ${describeType(schema.items)}`)
  return parts.join(' ')
}

function fieldsTable(schema: Json | undefined): string {
  const properties: Json = schema?.properties ?? schema?.items?.properties ?? {}
  const required = new Set<string>(schema?.required ?? [])
  const rows = Object.entries(properties).map(
    ([name, s]) =>
      `<tr><td><code>${escape(name)}</code>${required.has(name) ? ' <b>required</b>' : ''}</td><td>${escape(describeType(s))}${s.readOnly ? ', read-only' : ''}</td><td>${escape(s.description)}</td></tr>`,
  )
  return rows.length ? `<table><tr><th>field</th><th>type</th><th>notes</th></tr>${rows.join('')}</table>` : ''
}

function operation(path: string, method: string, op: Json): string {
  const parameters = (op.parameters ?? []).map(
    (p: Json) => `<tr><td><code>${escape(p.name)}</code> (${escape(p.in)})</td><td>${escape(describeType(p.schema))}</td><td>${escape(p.description ?? p.schema?.description)}</td></tr>`,
  )
  const body = op.requestBody?.content?.['application/json']?.schema
  const responses = Object.entries(op.responses ?? {}).map(
    ([status, r]: [string, any]) => `<tr><td>${escape(status)}</td><td>${escape(r.description)}</td></tr>`,
  )
  const success = Object.entries(op.responses ?? {}).find(([status]) => /^2/.test(status))?.[1] as Json | undefined
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-')
  return [
    `<section id="${escape(id)}"><h3><span class="m">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>`,
    op.summary ? `<p>${escape(op.summary)}</p>` : '',
    op.security?.length === 0 ? '<p><i>No token needed.</i></p>' : '',
    parameters.length ? `<h4>Parameters</h4><table><tr><th>name</th><th>type</th><th>notes</th></tr>${parameters.join('')}</table>` : '',
    body ? `<h4>Body</h4><p>${escape(body.description)}</p>${fieldsTable(body)}` : '',
    success?.content?.['application/json']?.schema ? `<h4>Answer</h4>${fieldsTable(success.content['application/json'].schema)}` : '',
    `<h4>Statuses</h4><table>${responses.join('')}</table></section>`,
  ].join('\n')
}

export function docsPage(document: Json): string {
  const sections: string[] = []
  const index: string[] = []
  for (const [path, item] of Object.entries<Json>(document.paths ?? {})) {
    for (const method of METHODS) {
      if (!item[method]) continue
      const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-')
      index.push(`<li><a href="#${escape(id)}">${method.toUpperCase()} ${escape(path)}</a></li>`)
      sections.push(operation(path, method, item[method]))
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(document.info?.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
section{border-top:1px solid #ddd;margin-top:1.5rem}.m{background:#246;color:#fff;padding:0 .4rem;border-radius:3px}
</style></head><body>
<h1>${escape(document.info?.title)} ${escape(document.info?.version)}</h1>
<p>${escape(document.info?.description)}</p>
<p>The machine-readable document: <a href="v1/openapi.json">/v1/openapi.json</a> (OpenAPI ${escape(document.openapi)}).</p>
<ul>${index.join('\n')}</ul>
${sections.join('\n')}
</body></html>`
}
