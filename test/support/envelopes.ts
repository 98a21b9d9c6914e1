/** Wrapping core events in the CloudEvents envelope a producer sends, and routing them to topics. */
import type { FactEvent } from '../../projections/index.ts';
import { TOPIC_OF_TYPE } from '../../schemas/events.ts';

export function envelope(accountId: string, event: FactEvent) {
  return {
    specversion: '1.0',
    id: event.id,
    source: 'test',
    type: event.type,
    time: new Date(event.timeMs).toISOString(),
    accountid: accountId,
    datacontenttype: 'application/json',
    data: event.data,
  };
}

export function topicOf(type: FactEvent['type']): 'users' | 'roles' | 'queues' | 'inboxes' {
  return TOPIC_OF_TYPE[type];
}
