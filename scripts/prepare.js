// npm install / npm ci: builds dist/ (`npm run build`). An install without dev dependencies
// (`--omit=dev`) has no TypeScript to build with: it leaves dist/ as it is, so that a dist/ built
// beforehand (`npm ci && npm run build`, then deploy it with `npm ci --omit=dev`) is kept.
import { spawnSync } from 'node:child_process'

try {
  import.meta.resolve('typescript')
} catch {
  process.stderr.write('app-offerings: TypeScript is not installed (dev dependencies omitted): dist/ not built\n')
  process.exit(0)
}
const npm = process.env.npm_execpath
const run = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { stdio: 'inherit', shell: true })
process.exit(run.status ?? 1)
