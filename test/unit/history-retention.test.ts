import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import { HistoryGoneError, historyGaps, retentionProblems, retentionWarning } from '../../src/kafka/history-retention.ts';

describe('retentionProblems: which topic settings delete history', () => {
  it('passes a topic that keeps everything', () => {
    expect(retentionProblems('zcc.users', { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' })).toEqual([]);
  });

  it('flags the broker default of 7 days, a size limit, and compaction, each on its own', () => {
    const problems = retentionProblems('zcc.roles', { 'retention.ms': '604800000', 'retention.bytes': '1073741824', 'cleanup.policy': 'compact,delete' });
    expect(problems.map((p) => [p.setting, p.value])).toEqual([
      ['retention.ms', '604800000'],
      ['retention.bytes', '1073741824'],
      ['cleanup.policy', 'compact,delete'],
    ]);
    expect(problems[0]!.fix).toBe('kafka-configs --bootstrap-server <broker> --alter --entity-type topics --entity-name zcc.roles --add-config retention.ms=-1');
    expect(problems[2]!.fix).toContain('--add-config cleanup.policy=delete');
  });

  it('tiered storage: a finite local retention is fine, a finite total retention is not (it bounds the remote tier too)', () => {
    const tiered = { 'remote.storage.enable': 'true', 'retention.bytes': '-1', 'cleanup.policy': 'delete' } as const;
    expect(retentionProblems('zcc.queues', { ...tiered, 'retention.ms': '-1' })).toEqual([]);
    const [problem, ...rest] = retentionProblems('zcc.queues', { ...tiered, 'retention.ms': '2592000000' });
    expect([problem!.setting, problem!.tiered, rest]).toEqual(['retention.ms', true, []]);
    expect(retentionWarning(problem!)).toContain('tiered storage is on, but retention.ms and retention.bytes bound the remote tier too');
  });

  it('does not judge a setting the broker did not report', () => {
    expect(retentionProblems('zcc.inboxes', {})).toEqual([]);
  });
});

describe('retentionWarning', () => {
  it('names the topic, the setting, its value and the command that fixes it, and offers tiered storage', () => {
    const [problem] = retentionProblems('zcc.users', { 'retention.ms': '604800000' });
    const text = retentionWarning(problem!);
    expect(text).toContain('topic zcc.users has retention.ms=604800000');
    expect(text).toContain('--entity-name zcc.users --add-config retention.ms=-1');
    expect(text).toContain('rebuild');
    expect(text).toContain('remote.storage.enable=true');
  });

  it('says that compaction loses changes no offset shows', () => {
    const [problem] = retentionProblems('zcc.users', { 'cleanup.policy': 'compact' });
    expect(retentionWarning(problem!)).toMatch(/latest event of each key.*no offset shows/);
  });
});

describe('historyGaps: partitions whose log starts past the first offset needed', () => {
  const offsets = [
    { partition: 1, low: '0' },
    { partition: 0, low: '42' },
  ];

  it('from the beginning by default: only the partition that lost its start', () => {
    expect(historyGaps('zcc.users', offsets)).toEqual([{ topic: 'zcc.users', partition: 0, firstMissing: 0n, logStart: 42n }]);
  });

  it('from a later offset: the loss counts only when it reaches what is needed', () => {
    expect(historyGaps('zcc.users', offsets, () => 42n)).toEqual([]);
    expect(historyGaps('zcc.users', offsets, (_, p) => (p === 0 ? 30n : 0n))).toEqual([{ topic: 'zcc.users', partition: 0, firstMissing: 30n, logStart: 42n }]);
  });

  it('a partition emptied by deletion is a gap; one never written to is not', () => {
    expect(historyGaps('t', [{ partition: 0, low: '7' }])).toHaveLength(1);
    expect(historyGaps('t', [{ partition: 0, low: '0' }])).toEqual([]);
  });
});

describe('HistoryGoneError', () => {
  const gaps = [
    { topic: 'zcc.users', partition: 2, firstMissing: 0n, logStart: 42n },
    { topic: 'zcc.roles', partition: 0, firstMissing: 0n, logStart: 1n },
  ];
  const error = new HistoryGoneError(gaps, 'rebuild');

  it('is in the taxonomy, not retriable, with the gaps as JSON-safe details', () => {
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('history_gone');
    expect(error.retriable).toBe(false);
    expect(error.details).toEqual({
      gaps: [
        { topic: 'zcc.users', partition: 2, first_missing: '0', log_start: '42' },
        { topic: 'zcc.roles', partition: 0, first_missing: '0', log_start: '1' },
      ],
    });
  });

  it('names topic, partition, the first missing offset and the range that is gone', () => {
    expect(error.message).toMatch(/^rebuild refused:/);
    expect(error.message).toContain('topic zcc.users partition 2: first missing offset 0; offsets 0..41 are gone (the log now starts at 42)');
    expect(error.message).toContain('topic zcc.roles partition 0: first missing offset 0; offset 0 is gone (the log now starts at 1)');
  });

  it('gives the causes and what the operator can do, and says no flag skips the check', () => {
    expect(error.message).toMatch(/retention.*deleteRecords/);
    expect(error.message).toMatch(/restore the topics.*history with its offsets/);
    expect(error.message).toMatch(/To accept the loss, start a new history/);
    expect(error.message).toContain('No flag');
  });
});
