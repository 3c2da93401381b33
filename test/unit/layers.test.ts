// Imports run one way: a module imports only from its own layer or the layers below it, so the
// ground floor (errors, configuration) knows nothing of the query layer, the query layer nothing
// of storage, the records core nothing of HTTP, and so on up to the command line.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

/** Bottom to top: the first path segment under src/ (a folder, or a file without .ts). */
const LAYERS = [
  ['errors', 'config', 'logger'],
  ['catalogue'],
  ['query'],
  ['storage'],
  ['records'],
  ['resources'],
  ['platform'],
  ['http'],
  ['app'],
  ['server'],
  ['cli'],
  ['main'],
]
const level = (path: string) => {
  const top = relative(SRC, path).split('/')[0].replace(/\.ts$/, '')
  const found = LAYERS.findIndex((layer) => layer.includes(top))
  assert.ok(found >= 0, `src/${top} belongs to no layer: add it to LAYERS`)
  return found
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* sources(path)
    else if (entry.name.endsWith('.ts')) yield path
  }
}

describe('layers', () => {
  it('every relative import goes to the same layer or one below', () => {
    const upward: string[] = []
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8')
      for (const [, target] of text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)) {
        const to = resolve(dirname(file), target)
        if (level(to) > level(file)) upward.push(`${relative(SRC, file)} -> ${relative(SRC, to)}`)
      }
    }
    assert.deepEqual(upward, [])
  })
})
