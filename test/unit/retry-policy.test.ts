/**
 * The one retry policy (src/errors.ts `retryClass`), on the errors the clients really throw: what
 * the projector waits out (transient and unknown), what ends its batch (permanent), and what the
 * API answers 503 for (transient only).
 */
import { errors as opensearchErrors } from '@opensearch-project/opensearch';
import { ReplyError } from 'ioredis';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSProtocolError, KafkaJSRequestTimeoutError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { AppError, type RetryClass, isRetriable, retryClass } from '../../src/errors.ts';
import { IntegrityFault } from '../../src/integrity/fault.ts';

const response = (statusCode: number) => new opensearchErrors.ResponseError({ statusCode, body: { error: { type: 'x' } }, headers: {}, warnings: null, meta: {} as never });
const network = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
const protocol = (type: string, retriable: boolean) => new KafkaJSProtocolError({ message: type, type, code: 1, retriable } as never);

const TABLE: [string, unknown, RetryClass][] = [
  ['Redis refused the connection', network('ECONNREFUSED'), 'transient'],
  ['a socket reset', network('ECONNRESET'), 'transient'],
  ['ioredis: the connection is closed', new Error('Connection is closed.'), 'transient'],
  ['Redis is loading its data set', new ReplyError('LOADING Redis is loading the dataset in memory'), 'transient'],
  ['a replica that is read-only after a failover', new ReplyError("READONLY You can't write against a read only replica."), 'transient'],
  ['Redis refused a script (a bug)', new ReplyError('ERR Error running script: attempt to compare nil with number'), 'permanent'],
  ['OpenSearch unreachable', new opensearchErrors.ConnectionError('connect ECONNREFUSED 127.0.0.1:9200'), 'transient'],
  ['OpenSearch timed out', new opensearchErrors.TimeoutError('Request timed out', {} as never), 'transient'],
  ['OpenSearch no living connection', new opensearchErrors.NoLivingConnectionsError('none', {} as never), 'transient'],
  ['OpenSearch 429 (queue full)', response(429), 'transient'],
  ['OpenSearch 503', response(503), 'transient'],
  ['OpenSearch 400 (a mapping refuses the document)', response(400), 'unknown'],
  ['Kafka connection lost', new KafkaJSConnectionError('Connection error'), 'transient'],
  ['Kafka request timed out', new KafkaJSRequestTimeoutError('Request timed out'), 'transient'],
  ['Kafka: not the leader (retriable by kafkajs)', protocol('NOT_LEADER_FOR_PARTITION', true), 'transient'],
  ['Kafka: the member was evicted', protocol('UNKNOWN_MEMBER_ID', false), 'permanent'],
  ['Kafka: a rebalance is in progress (the batch must end to rejoin)', protocol('REBALANCE_IN_PROGRESS', true), 'permanent'],
  ['kafkajs gave up', new KafkaJSNonRetriableError('boom'), 'permanent'],
  ['our outage flag', new AppError('redis_unavailable', 'Redis is reconnecting', { retriable: true }), 'transient'],
  ['OpenSearch rejected documents', new AppError('opensearch_rejected', 'mapper_parsing_exception'), 'permanent'],
  ['the stores disagree', new IntegrityFault('redis_behind', 'Redis went back in time'), 'permanent'],
  ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')"), 'permanent'],
  ['bad JSON', new SyntaxError('Unexpected token'), 'permanent'],
  ['an error nobody classified', new Error('something odd'), 'unknown'],
  ['not an error at all', 'a string', 'unknown'],
];

describe('retryClass', () => {
  it.each(TABLE)('%s', (_, error, expected) => {
    expect(retryClass(error)).toBe(expected);
    expect(isRetriable(error)).toBe(expected === 'transient');
  });
});
