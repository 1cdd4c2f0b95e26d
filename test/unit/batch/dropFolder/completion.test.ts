// When a file in in/ counts as complete: the sidecar and settle-time rules of sortIncoming, run on
// an in-memory listing so each rule is checked without a file system.

import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  sortIncoming,
  type InEntry,
  type IncomingReader,
} from '../../../../src/batch/dropFolder/completion.ts';
import type { CompletionSettings } from '../../../../src/batch/dropFolder/port.ts';

const NOW = Date.parse('2030-01-01T02:00:00.000Z');
const SETTINGS: CompletionSettings = { settleMs: 60_000, requireSidecar: false };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** An in-memory in/: name → content and age in ms. */
function folder(files: Record<string, { content: string; ageMs: number }>) {
  const entries: InEntry[] = Object.entries(files).map(([name, f]) => ({
    name,
    size: Buffer.byteLength(f.content),
    modifiedMs: NOW - f.ageMs,
    regular: true,
  }));
  const reads: string[] = [];
  const reader: IncomingReader = {
    digest: async (entry, algorithm) => {
      reads.push(entry.name);
      return createHash(algorithm).update(files[entry.name]!.content).digest('hex');
    },
    readSidecar: async (entry) => files[entry.name]!.content,
  };
  return { entries, reader, reads };
}

const old = (content: string) => ({ content, ageMs: 120_000 });
const fresh = (content: string) => ({ content, ageMs: 1_000 });

describe('sortIncoming', () => {
  it('takes a file without sidecar once unchanged for the settle time, not before', async () => {
    const { entries, reader } = folder({ 'a.csv': old('a'), 'b.csv': fresh('b') });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready.map((f) => [f.name, f.completion, f.sha256])).to.deep.equal([
      ['a.csv', 'settled', null],
    ]);
    expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['b.csv']);
    expect(incoming.invalid).to.deep.equal([]);
  });

  it('never takes an upload in progress (.part, .filepart), however old', async () => {
    const { entries, reader } = folder({ 'a.csv.part': old('a'), 'b.csv.filepart': old('b') });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready).to.deep.equal([]);
    expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([
      ['a.csv.part', 'upload in progress'],
      ['b.csv.filepart', 'upload in progress'],
    ]);
  });

  it('ignores dot files (other tools temporary files)', async () => {
    const { entries, reader } = folder({ '.a.csv.Xy12Z': old('a') });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming).to.deep.equal({ ready: [], invalid: [], waiting: [] });
  });

  it('takes a fresh file at once when its sidecar matches, and lists the sidecar nowhere', async () => {
    const { entries, reader } = folder({
      'a.csv': fresh('a'),
      'a.csv.sha256': fresh(`${sha256('a')}  a.csv\n`),
    });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready.map((f) => [f.name, f.completion, f.sha256])).to.deep.equal([
      ['a.csv', 'sidecar', sha256('a')],
    ]);
    expect(incoming.waiting).to.deep.equal([]);
  });

  it('waits while a file and its differing sidecar are fresh (the upload may be running)', async () => {
    const { entries, reader } = folder({
      'a.csv': fresh('a, half'),
      'a.csv.sha256': old(sha256('a, whole')),
    });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready).to.deep.equal([]);
    expect(incoming.invalid).to.deep.equal([]);
    expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['a.csv']);
  });

  it('finds a settled file whose sidecar does not match invalid, with both digests in the reason', async () => {
    const { entries, reader } = folder({ 'a.csv': old('a'), 'a.csv.sha256': old(sha256('b')) });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready).to.deep.equal([]);
    expect(incoming.invalid).to.have.length(1);
    const [invalid] = incoming.invalid;
    expect(invalid?.name).to.equal('a.csv');
    expect(invalid?.problem).to.equal('SIDECAR_MISMATCH');
    expect(invalid?.reason).to.include(sha256('a')).and.include(sha256('b'));
  });

  it('finds a settled file with an unreadable sidecar invalid', async () => {
    const { entries, reader } = folder({ 'a.csv': old('a'), 'a.csv.sha256': old('checksum: none') });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.invalid.map((f) => [f.name, f.problem])).to.deep.equal([['a.csv', 'SIDECAR_UNREADABLE']]);
  });

  it('with requireSidecar, waits for the sidecar however old the file', async () => {
    const { entries, reader } = folder({ 'a.csv': old('a') });
    const incoming = await sortIncoming(entries, reader, { ...SETTINGS, requireSidecar: true }, NOW);
    expect(incoming.ready).to.deep.equal([]);
    expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([
      ['a.csv', 'waiting for a.csv.sha256'],
    ]);
  });

  it('lists a sidecar without its file as waiting', async () => {
    const { entries, reader } = folder({ 'a.csv.sha256': old(sha256('a')) });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([
      ['a.csv.sha256', 'sidecar without its file'],
    ]);
  });

  it('does not take folders or links, and hashes only files that have a sidecar', async () => {
    const { entries, reader, reads } = folder({
      'a.csv': old('a'),
      'b.csv': old('b'),
      'b.csv.sha256': old(sha256('b')),
    });
    entries.push({ name: 'sub', size: 0, modifiedMs: NOW - 120_000, regular: false });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.ready.map((f) => f.name)).to.deep.equal(['a.csv', 'b.csv']);
    expect(incoming.waiting.map((f) => [f.name, f.reason])).to.deep.equal([['sub', 'not a regular file']]);
    expect(reads).to.deep.equal(['b.csv']);
  });

  it('takes a zip whose MyPay .md5 matches, needs both sidecars to match, and never takes the .md5', async () => {
    const { entries, reader } = folder({
      'p-1_4.zip': fresh('p'),
      'p-1_4.md5': fresh(md5('p').toUpperCase()),
      'q-1_4.zip': fresh('q'),
      'q-1_4.zip.sha256': fresh(sha256('q')),
      'q-1_4.md5': old(md5('another q')),
      'r.csv': old('r'),
      'r.md5': old(md5('r')),
    });
    const incoming = await sortIncoming(entries, reader, { ...SETTINGS, requireSidecar: true }, NOW);
    expect(incoming.ready.map((f) => [f.name, f.completion, f.sha256])).to.deep.equal([
      ['p-1_4.zip', 'sidecar', null],
    ]);
    expect(incoming.waiting.map((f) => f.name)).to.deep.equal(['q-1_4.zip', 'r.csv', 'r.md5']);
    expect(incoming.invalid).to.deep.equal([]);
  });

  it('finds a zip invalid once it and its mismatching .md5 are settled', async () => {
    const { entries, reader } = folder({ 'p-1_4.zip': old('p'), 'p-1_4.md5': old(md5('other')) });
    const incoming = await sortIncoming(entries, reader, SETTINGS, NOW);
    expect(incoming.invalid.map((f) => [f.name, f.problem])).to.deep.equal([
      ['p-1_4.zip', 'SIDECAR_MISMATCH'],
    ]);
    expect(incoming.invalid[0]!.reason).to.contain(`p-1_4.md5 says ${md5('other')}`);
  });

  it('skips a file that vanished while being read (another instance claimed it)', async () => {
    const { entries } = folder({ 'a.csv': fresh('a'), 'a.csv.sha256': fresh(sha256('a')) });
    const vanished: IncomingReader = { digest: async () => null, readSidecar: async () => null };
    const incoming = await sortIncoming(entries, vanished, SETTINGS, NOW);
    expect(incoming).to.deep.equal({ ready: [], invalid: [], waiting: [] });
  });
});
