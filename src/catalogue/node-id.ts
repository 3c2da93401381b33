// nodeIDs: unpadded base64url of `<domain>/<Type>/<id>`. The domain comes from configuration,
// never from the request, so a record's nodeID never changes.

export function encodeNodeId(domain: string, type: string, id: number): string {
  return Buffer.from(`${domain}/${type}/${id}`).toString('base64url')
}

/** The numeric id inside a nodeID of this domain and type, or undefined. */
export function decodeNodeId(domain: string, type: string, nodeId: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(nodeId)) return undefined
  const text = Buffer.from(nodeId, 'base64url').toString()
  const prefix = `${domain}/${type}/`
  if (!text.startsWith(prefix)) return undefined
  const id = text.slice(prefix.length)
  return /^[1-9]\d{0,15}$/.test(id) && encodeNodeId(domain, type, Number(id)) === nodeId ? Number(id) : undefined
}

/** `:id` in a path: the numeric id or the nodeID. */
export function parseRecordId(domain: string, type: string, param: string): number | undefined {
  if (/^[1-9]\d{0,15}$/.test(param)) return Number(param)
  return decodeNodeId(domain, type, param)
}
