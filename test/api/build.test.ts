// What ships: the command runs the compiled dist/ that `npm install` builds, with no TypeScript
// loader at run time, and says in one line when dist/ is not there. No store is involved: the
// command's migrate runs on a SQLite file of its own.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { after, describe, it } from 'node:test'
import { command } from '../support/command.ts'

const ROOT = dirname(dirname(command()))
const work = mkdtempSync(join(tmpdir(), 'app-offerings-build-'))
after(() => rmSync(work, { recursive: true, force: true }))

async function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stdout, stderr }
}

// A preload that writes the URL of every module the process resolves through the ESM loader (the
// command's own modules, tsx's API, any .ts file) to the file MODULE_TRACE names.
function tracer(): string {
  const hooks = join(work, 'trace-hooks.mjs')
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs'
let trace
export function initialize(data) { trace = data }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  appendFileSync(trace, result.url + '\\n')
  return result
}
`,
  )
  const preload = join(work, 'trace.mjs')
  writeFileSync(preload, `import { register } from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)}, { data: process.env.MODULE_TRACE })\n`)
  return preload
}

describe('the compiled build', () => {
  it('has a module in dist/ for every source, and no import of a .ts file left', () => {
    const sources = readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'))
    assert.ok(sources.length > 0)
    for (const source of sources) {
      const compiled = join(ROOT, 'dist', source.replace(/\.ts$/, '.js'))
      assert.ok(existsSync(compiled), `dist/ has no ${source.replace(/\.ts$/, '.js')}`)
      const text = readFileSync(compiled, 'utf8')
      // static (from '...', import '...') and dynamic (import('...')) imports alike
      const left = text.match(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'][^"']+\.[mc]?ts["']/g)
      assert.equal(left, null, `${source}: ${left}`)
    }
  })

  it('runs a command from dist/ with no TypeScript loader', async () => {
    const trace = join(work, 'modules.txt')
    const result = await run(['--import', tracer(), command(), 'migrate'], { DATABASE_URL: `sqlite:${join(work, 'migrate.db')}`, MODULE_TRACE: trace })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^applied 001-initial/)
    const modules = readFileSync(trace, 'utf8').trim().split('\n')
    const dist = pathToFileURL(join(ROOT, 'dist')).href
    // main.js, and migrate.js through main's dynamic import
    assert.ok(modules.includes(`${dist}/main.js`), modules.join('\n'))
    assert.ok(modules.includes(`${dist}/cli/migrate.js`), modules.join('\n'))
    const loaders = modules.filter((url) => /\/node_modules\/(tsx|esbuild|typescript)\//.test(url) || /\.[mc]?ts$/.test(url))
    assert.deepEqual(loaders, [])
  })

  it('says in one line that dist/ is missing, and exits 1', async () => {
    const clone = join(work, 'no-dist')
    mkdirSync(join(clone, 'bin'), { recursive: true })
    copyFileSync(command(), join(clone, 'bin', 'app-offerings.js'))
    writeFileSync(join(clone, 'package.json'), JSON.stringify({ type: 'module' }))
    const result = await run([join(clone, 'bin', 'app-offerings.js'), '--help'])
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    assert.equal(result.stderr, 'app-offerings: dist/main.js is missing: run `npm install` or `npm run build` first\n')
  })
})
