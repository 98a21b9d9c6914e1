import { describe, expect, it } from 'vitest';
import type { UserDoc } from '../../projections/index.ts';
import { CSV_COLUMNS, csvRows, neutralizeFormula } from '../../src/api/csv-rows.ts';

const doc: UserDoc = {
  user_id: 'u1',
  display_name: 'Ana Cruz',
  user_email: 'ana@example.com',
  user_access: 'inactive',
  entries: [
    {
      access_type: 'automatic_call_recording',
      target: { type: 'queue', id: 'q1', name: 'Sales' },
      queues: [{ id: 'q1', name: 'Sales' }],
      channels: ['voice'],
      granted_by: [{ rule: 'automatic_recording', channel: 'voice', queue_id: 'q1', role_id: 'r1', member_type: 'agent' }],
    },
    {
      access_type: 'inbox',
      target: { type: 'inbox', id: 'i1', name: 'Sales voicemail' },
      queues: [
        { id: 'q1', name: 'Sales' },
        { id: 'q2', name: 'Video' },
      ],
      channels: ['video', 'voice'],
      granted_by: [
        { rule: 'automatic_recording_inbox', channel: 'voice', queue_id: 'q1', role_id: 'r1', member_type: 'agent' },
        { rule: 'inbox_queue_grant', channel: 'video', queue_id: 'q2', role_id: null, member_type: 'supervisor' },
        { rule: 'inbox_user_grant', channel: 'voice', queue_id: null, role_id: null, member_type: null },
      ],
    },
  ],
};

describe('CSV rows', () => {
  it('one row per entry, in the column order, lists joined by ;', () => {
    expect(CSV_COLUMNS).toHaveLength(12);
    expect(csvRows(doc, {})).toEqual([
      ['u1', 'Ana Cruz', 'ana@example.com', 'inactive', '2', 'automatic_call_recording', 'queue', 'q1', 'Sales', 'q1', 'voice', 'automatic_recording'],
      [
        'u1',
        'Ana Cruz',
        'ana@example.com',
        'inactive',
        '2',
        'inbox',
        'inbox',
        'i1',
        'Sales voicemail',
        'q1;q2',
        'video;voice',
        'automatic_recording_inbox;inbox_queue_grant;inbox_user_grant',
      ],
    ]);
  });

  it('follows the filters: channel narrows paths and queues, access type drops entries, none left means no rows', () => {
    expect(csvRows(doc, { channel: 'video' })).toEqual([
      ['u1', 'Ana Cruz', 'ana@example.com', 'inactive', '1', 'inbox', 'inbox', 'i1', 'Sales voicemail', 'q2', 'video', 'inbox_queue_grant'],
    ]);
    expect(csvRows(doc, { access_type: 'automatic_call_recording' })).toHaveLength(1);
    expect(csvRows(doc, { channel: 'email' })).toEqual([]);
  });

  it('makes formula-looking cells inert', () => {
    for (const bad of ['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', '\tx', '\rx']) expect(neutralizeFormula(bad)).toBe(`'${bad}`);
    expect(neutralizeFormula('Ana = Bo')).toBe('Ana = Bo');
    const hostile = { ...doc, display_name: '=cmd|calc' };
    expect(csvRows(hostile, {})[0]![1]).toBe("'=cmd|calc");
  });
});
