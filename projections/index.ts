/** The access rules: a pure core (no I/O, no clock, no randomness). */
export * from './model.ts';
export type * from './events.ts';
export * from './facts.ts';
export * from './apply.ts';
export * from './affected.ts';
export * from './derive.ts';
export * from './views.ts';
export * from './summary.ts';
export * from './dedupe.ts';
export * from './account.ts';
export * from './equality.ts';
export * from './history.ts';
export * from './raw-facts.ts';
