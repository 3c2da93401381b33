// Fixtures shared by the app offering and service instance suites.
import { encodeNodeId } from '../../src/catalogue/node-id.ts'
import assert from 'node:assert/strict'
import type { TestAccount } from './harness.ts'

export function validOffering(serviceInstanceId: number, extra: Record<string, unknown> = {}) {
  return {
    name: `Note Dispatcher ${Math.random().toString(36).slice(2, 8)}`,
    service_instance_id: serviceInstanceId,
    policy_jwt_alg: 'rs256',
    webhook_uri_template: 'https://hooks.example.com/{account}/notes',
    ...extra,
  }
}

export async function serviceInstance(account: TestAccount, name = 'Mail'): Promise<number> {
  const res = await account.call('POST', '/v1/service_instances', { name })
  assert.equal(res.statusCode, 201, res.body)
  return res.json().id
}

/** Creates an offering and returns its body; fails the test on anything but 201. */
export async function createOffering(account: TestAccount, serviceInstanceId: number, extra: Record<string, unknown> = {}) {
  const res = await account.call('POST', '/v1/app_offerings', validOffering(serviceInstanceId, extra))
  assert.equal(res.statusCode, 201, res.body)
  return res.json()
}

export const VALIDATION_FAILED = 'Validation Failed'

/** Asserts a 422 with exactly these `[field, message]` pairs. */
export function assertInvalid(res: { statusCode: number; body: string; json(): any }, errors: Array<[string, string]>): void {
  assert.equal(res.statusCode, 422, res.body)
  assert.deepEqual(res.json(), { message: VALIDATION_FAILED, errors })
}

/** A service instance as a reference renders it (conventions.md §7): its name is translatable. */
export function serviceInstanceReference(id: number, name: string, sourceID?: string) {
  return { id, name, localized_name: name, ...(sourceID && { sourceID }), nodeID: encodeNodeId('localhost', 'ServiceInstance', id) }
}
