#!/usr/bin/env node
// Installed entry point of the `ppay` CLI: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli.ts');
