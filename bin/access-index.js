#!/usr/bin/env node
// The installed command: runs the TypeScript sources through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

// kafkajs warns at every start about a partitioner change of its 2.0 release; we use its default.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

register();
await import('../src/cli/main.ts');
