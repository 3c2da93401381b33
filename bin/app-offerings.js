#!/usr/bin/env node
// The TypeScript sources run through tsx's loader: no build step between a clone and a server.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/main.ts')
process.exitCode = await main(process.argv.slice(2))
