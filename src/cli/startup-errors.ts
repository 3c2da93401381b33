// Failing to open or reach the database at start, said in one line that names the setting and
// the file or host: `DATABASE_URL: cannot open sqlite:/x/y.db (...)` rather than the driver's
// `unable to open database file` or `connect ECONNREFUSED ...`. Any other error passes through.

export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StartupError'
  }
}

const FS_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENOTDIR', 'ENOENT', 'ENOSPC'])
const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'])
const UNKNOWN_HOST = new Set(['ENOTFOUND', 'EAI_AGAIN'])

/** The error to report for a failure to open, reach or migrate the database of `databaseUrl`. */
export function explainStartupError(error: unknown, databaseUrl: string): unknown {
  if (!(error instanceof Error)) return error
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return error
  return databaseUrl.startsWith('sqlite:') ? sqlite(error, code, databaseUrl) : postgres(error, code, databaseUrl)
}

function sqlite(error: Error, code: string, url: string): Error {
  const reason = error.message.replace(/^\w+: /, '')
  if (FS_CODES.has(code)) return new StartupError(`DATABASE_URL: cannot create the folder of ${url} (${code}: ${reason})`, { cause: error })
  if (code === 'SQLITE_CANTOPEN') {
    return new StartupError(`DATABASE_URL: cannot open ${url} (${reason}: is its folder writable, and is the path a file?)`, { cause: error })
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new StartupError(`DATABASE_URL: ${url} is read-only (${reason}): the server needs to write to the file and its folder`, { cause: error })
  }
  if (code === 'SQLITE_NOTADB') return new StartupError(`DATABASE_URL: ${url} is not an SQLite database (${reason})`, { cause: error })
  if (code === 'SQLITE_PERM' || code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_') || code === 'SQLITE_FULL') {
    return new StartupError(`DATABASE_URL: cannot write ${url} (${code}: ${reason})`, { cause: error })
  }
  return error
}

function postgres(error: Error, code: string, url: string): Error {
  let where = 'the configured host'
  let host = ''
  try {
    const parsed = new URL(url)
    host = parsed.hostname || 'localhost'
    where = `${host}:${parsed.port || '5432'}`
  } catch {
    // a URL pg understands but WHATWG does not: keep the generic wording
  }
  if (UNREACHABLE.has(code)) return new StartupError(`DATABASE_URL: PostgreSQL at ${where} does not answer (${code})`, { cause: error })
  if (UNKNOWN_HOST.has(code)) return new StartupError(`DATABASE_URL: PostgreSQL host ${host || where} is not known (${code})`, { cause: error })
  // SQLSTATE class 28: invalid authorization; 3D000: no such database.
  if (code.startsWith('28') && code.length === 5) return new StartupError(`DATABASE_URL: PostgreSQL at ${where} refused the login (${error.message})`, { cause: error })
  if (code === '3D000') return new StartupError(`DATABASE_URL: PostgreSQL at ${where}: ${error.message}`, { cause: error })
  return error
}

/** Listening failed: name the setting. */
export function explainListenError(error: unknown, host: string, port: number): unknown {
  const code = (error as { code?: unknown })?.code
  if (code === 'EADDRINUSE') return new StartupError(`PORT: ${host}:${port} is already in use (EADDRINUSE)`, { cause: error })
  if (code === 'EACCES') return new StartupError(`PORT: not allowed to listen on ${host}:${port} (EACCES)`, { cause: error })
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new StartupError(`HOST: cannot listen on ${host} (${code})`, { cause: error })
  return error
}
