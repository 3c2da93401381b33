// The outbox of webhook deliveries (lifecycle.md, "Webhook deliveries"): an event is a row of
// `webhook_deliveries`, written in the transaction of the change that causes it, so it exists
// exactly when the change does; the worker (platform/webhooks) signs and sends it later. The
// message (`data`) is fixed here, as the change left the record; only `account` (the account's
// URL) is added when it is sent, from the issuer the sending process is configured with.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { encodeNodeId } from '../catalogue/node-id.ts'
import type { Row } from '../catalogue/resource.ts'
import type { Unit, WriteServices } from './rules.ts'

export const OUTBOX_TABLE = 'webhook_deliveries'

/** What a delivery's `data` holds, but `account`, which the sender adds. */
export interface EventMessage {
  webhook_id: number
  webhook_nodeID: string
  account_id: string
  name: string
  event: string
  object_id: number
  object_nodeID: string
  person_id: number | null
  person_name: string
  payload: unknown
}

export interface OutboxEvent {
  /** The webhook row (id, account_id, name, disabled). */
  webhook: Row
  event: string
  object: { id: number; nodeType: string }
  payload: unknown
}

/** Whether a webhook's `event` asks for this event: the same name, or `app_instance.*` for any app instance event. */
export function webhookWants(webhookEvent: string, event: string): boolean {
  return webhookEvent === event || (webhookEvent === 'app_instance.*' && event.startsWith('app_instance.'))
}

/** Writes the event for its webhook into the unit's transaction; a disabled webhook gets none. */
export async function enqueue(unit: Unit, services: WriteServices, event: OutboxEvent): Promise<void> {
  const { webhook } = event
  if (Number(webhook.disabled) === 1) return
  const webhookId = Number(webhook.id)
  const data: EventMessage = {
    webhook_id: webhookId,
    webhook_nodeID: encodeNodeId(services.nodeIdDomain, 'Webhook', webhookId),
    account_id: String(webhook.account_id),
    name: String(webhook.name ?? ''),
    event: event.event,
    object_id: event.object.id,
    object_nodeID: encodeNodeId(services.nodeIdDomain, event.object.nodeType, event.object.id),
    person_id: unit.context.actor.id,
    person_name: unit.context.actor.name,
    payload: event.payload,
  }
  await unit.trx
    .insertInto(OUTBOX_TABLE)
    .values({
      account_id: String(webhook.account_id),
      webhook_id: webhookId,
      uuid: randomUUID(),
      event: event.event,
      data: JSON.stringify(data),
      status: 'pending',
      attempts: 0,
      next_attempt_at: Date.now(),
      created_at: unit.now,
    })
    .execute()
  unit.events++
}

// Wakes the workers of this process once a unit with events has committed (records/write.ts);
// workers in other processes find the rows at their next poll.
const committed = new EventEmitter().setMaxListeners(0)

export function notifyOutbox(): void {
  committed.emit('events')
}

/** Calls `listener` after every commit that wrote events in this process; answers how to stop. */
export function onOutboxEvents(listener: () => void): () => void {
  committed.on('events', listener)
  return () => committed.off('events', listener)
}
