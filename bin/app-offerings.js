#!/usr/bin/env node
// Runs the compiled sources in dist/, which `npm install` builds (`npm run build` after a change
// to src/). Compiled, a start costs about half the CPU and memory of compiling at every start.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/main.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('app-offerings: dist/main.js is missing: run `npm install` or `npm run build` first\n')
  process.exit(1)
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
