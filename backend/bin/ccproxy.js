#!/usr/bin/env node
// The admin CLI, run from TypeScript source through tsx (as `npm start` runs the server).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
