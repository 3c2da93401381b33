// The command as a user runs it: bin/app-offerings.js, which runs the compiled dist/. `npm test`
// builds first; a test file run on its own after a change to src/ would otherwise spawn the old
// build and test code that no longer exists, so command() refuses a dist/ older than src/.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BIN = join(ROOT, 'bin/app-offerings.js')
let built = false

/** The path of bin/app-offerings.js, once dist/ is known to be built from the current src/. */
export function command(): string {
  if (!built) {
    assertBuilt()
    built = true
  }
  return BIN
}

function assertBuilt(): void {
  const main = join(ROOT, 'dist/main.js')
  let builtAt: number
  try {
    builtAt = statSync(main).mtimeMs
  } catch {
    throw new Error('dist/main.js is missing: run `npm run build` (npm test builds first)')
  }
  for (const file of readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (statSync(join(ROOT, 'src', file)).mtimeMs > builtAt) {
      throw new Error(`dist/ is older than src/${file}: run \`npm run build\` (npm test builds first)`)
    }
  }
}
