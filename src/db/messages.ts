/**
 * How many messages each of tenantctl's pooled clients has sent (createPool
 * counts them). The session module uses it to know that nothing ran on a client
 * since its last reset; a client that is not counted is never assumed clean.
 */
const sent = new WeakMap<object, number>();

export function countMessage(client: object): void {
  sent.set(client, (sent.get(client) ?? 0) + 1);
}

export function messagesSent(client: object): number | undefined {
  return sent.get(client);
}
