/** The in-memory account-state twin passes the contract the Redis adapter passes (test/contract/account-state.ts). */
import { describe } from 'vitest';
import { createAccountStateTwin } from '../../src/twins/account-state.ts';
import { accountStateContract } from '../contract/account-state.ts';

describe('account-state twin', () => {
  accountStateContract((options) => createAccountStateTwin(options));
});
