/**
 * A small contact center for the API tests: every rule, every channel, an inactive user, a user
 * with no access, a deleted user, accents, and a second account with look-alike names (to prove
 * nothing crosses accounts).
 */
import type { FactEvent } from '../../projections/index.ts';
import { createEventBuilder } from '../support/builders.ts';

export const ACCOUNT_A = 'acc-north';
export const ACCOUNT_B = 'acc-south';

/** Account A: the worked examples of docs/rules.md, side by side. */
export function accountA(): FactEvent[] {
  const b = createEventBuilder(Date.parse('2026-04-01T08:00:00Z'), 'a');
  const user = (id: string, name: string, email: string, access: 'active' | 'inactive' = 'active') => {
    const e = b.user(id, name, access);
    e.data.user_email = email;
    return e;
  };
  const events: FactEvent[] = [
    b.inbox('i1', 'Sales voicemail'),
    b.inbox('i2', 'Escalations'),
    b.inbox('i3', 'Chat overflow'),
    b.queue('q1', { name: 'Sales', channel: 'voice', inbox: 'i1', automatic: true, ad_hoc: true }),
    b.queue('q2', { name: 'Support video', channel: 'video', automatic: true }),
    b.queue('q3', { name: 'Chat', channel: 'messaging', inbox: 'i3', automatic: true, ad_hoc: true }),
    b.queue('q4', { name: 'Email desk', channel: 'email' }),
    b.role('r1', ['RecordingPlay:Edit'], 'Lead'),
    b.role('r2', ['InboxTab'], 'Agent'),
    user('u1', 'Ana Cruz', 'ana.cruz@example.com'),
    user('u2', 'Dara Müller', 'dara.muller@example.com'),
    user('u3', 'Émile Zola', 'emile@example.org', 'inactive'),
    user('u4', 'Kemal Öz', 'kemal@example.com'),
    user('u5', 'Nobody Here', 'nobody@example.com'),
    user('u6', 'Bo Li', 'bo.li@example.com'),
    user('u7', 'Gone User', 'gone@example.com'),
    user('u8', 'אבי כהן', 'avi@example.co.il'),
    user('u9', '=HYPERLINK("http://x")', 'formula@example.com'),
    b.assignRole('r1', 'u1'),
    b.assignRole('r1', 'u2'),
    b.assignRole('r2', 'u3'),
    b.member('q1', 'u1', 'agent'),
    b.member('q1', 'u2', 'supervisor'),
    b.member('q2', 'u2', 'supervisor'),
    b.member('q3', 'u3', 'agent'),
    b.member('q4', 'u4', 'agent'),
    b.member('q2', 'u4', 'agent'),
    b.member('q1', 'u6', 'agent'),
    b.member('q1', 'u7', 'agent'),
    b.member('q3', 'u8', 'supervisor'),
    b.grantUser('i2', 'u1'),
    b.grantUser('i1', 'u9'),
    b.grantQueue('i3', 'q3'),
    b.grantQueue('i2', 'q4'),
    b.grantQueue('i2', 'q2'),
    b.userDeleted('u7'),
  ];
  // Enough look-alike users to need several pages at small sizes.
  for (let n = 0; n < 23; n++) {
    events.push(user(`f${String(n).padStart(2, '0')}`, `Filler ${String.fromCharCode(65 + ((n * 7) % 23))}${n % 3}`, `filler${n}@example.net`));
    events.push(b.grantUser('i2', `f${String(n).padStart(2, '0')}`));
  }
  return events;
}

/** Account B: names that would match account A's searches, with access of their own. */
export function accountB(): FactEvent[] {
  const b = createEventBuilder(Date.parse('2026-04-01T08:00:00Z'), 'b');
  return [b.inbox('i1', 'South voicemail'), b.user('u1', 'Ana Cruz South'), b.user('s2', 'Dara Müller South'), b.grantUser('i1', 'u1'), b.grantUser('i1', 's2')];
}
