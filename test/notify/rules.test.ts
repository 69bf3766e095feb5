import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendHistory, previousEntry, readHistory, staleBefore } from '../../runner/src/notify/history.js';
import { matchedRules, shouldSend } from '../../runner/src/notify/rules.js';
import { isFixed } from '../../runner/src/notify/summary.js';
import { tempDir } from './helpers.js';

describe('notify: on: rules', () => {
  const build = (status: 'success' | 'failure' | 'unstable' | 'aborted', extra: { fixed?: boolean; changed?: boolean } = {}) => ({
    status,
    fixed: extra.fixed ?? false,
    changed: extra.changed ?? false,
  });

  it('matches on the build result', () => {
    assert.deepEqual(matchedRules(['failure', 'unstable'], build('failure')), ['failure']);
    assert.equal(shouldSend(['failure'], build('success')), false);
    assert.equal(shouldSend(['aborted'], build('aborted')), true);
    assert.equal(shouldSend(['unstable'], build('failure')), false);
    assert.equal(shouldSend([], build('failure')), false);
    assert.equal(shouldSend(['always'], build('success')), true);
  });

  it('fixed: a success after a failure or an unstable build (as Jenkins), not after an abort', () => {
    assert.equal(isFixed('success', 'failure'), true);
    assert.equal(isFixed('success', 'unstable'), true);
    assert.equal(isFixed('success', 'aborted'), false);
    assert.equal(isFixed('success', 'success'), false);
    assert.equal(isFixed('success', undefined), false);
    assert.equal(isFixed('failure', 'failure'), false);
    assert.deepEqual(matchedRules(['failure', 'fixed'], build('success', { fixed: true })), ['fixed']);
    assert.equal(shouldSend(['failure', 'fixed'], build('success')), false, 'the default rules stay quiet on a plain success');
  });

  it('changed: only when something was deployed', () => {
    assert.equal(shouldSend(['changed'], build('success', { changed: true })), true);
    assert.equal(shouldSend(['changed'], build('success', { changed: false })), false);
  });
});

describe('notify: history file', () => {
  it('gives the previous build of the same job and environment, skipping this build', () => {
    const file = join(tempDir(), 'h', 'notify.jsonl');
    appendHistory(file, { at: '2030-01-01T10:00:00Z', job: 'bot', build: '1', env: 'staging', status: 'failure' });
    appendHistory(file, { at: '2030-01-01T10:05:00Z', job: 'bot', build: '1', env: 'production', status: 'success' });
    appendHistory(file, { at: '2030-01-01T10:06:00Z', job: 'other', build: '9', env: 'staging', status: 'success' });
    appendHistory(file, { at: '2030-01-01T11:00:00Z', job: 'bot', build: '2', env: 'staging', status: 'success' });
    const h = readHistory(file);
    assert.equal(h.length, 4);
    assert.equal(previousEntry(h, { job: 'bot', build: '2', env: 'staging' })?.status, 'failure', 'build 2 does not count as its own previous');
    assert.equal(previousEntry(h, { job: 'bot', build: '3', env: 'staging' })?.status, 'success');
    assert.equal(previousEntry(h, { job: 'bot', build: '3', env: 'production' })?.build, '1');
    assert.equal(previousEntry(h, { job: 'new', build: '1' }), undefined);
    assert.equal(staleBefore(h, { job: 'bot', build: '3' })?.toISOString(), '2030-01-01T11:00:00.000Z');
    assert.equal(staleBefore(h, { job: 'bot', build: '2' })?.toISOString(), '2030-01-01T10:05:00.000Z');
    assert.equal(staleBefore(h, { job: 'bot' }), undefined, 'no build number: no cut-off');
  });

  it('survives torn lines and stays bounded', () => {
    const file = join(tempDir(), 'notify.jsonl');
    writeFileSync(file, '{"at":"2030-01-01T00:00:00Z","status":"failure"}\n{"at": torn\n{"at":"x","status":"weird"}\n');
    assert.deepEqual(readHistory(file).map((e) => e.status), ['failure']);
    for (let i = 0; i < 250; i++) appendHistory(file, { at: new Date(Date.UTC(2030, 0, 1, 0, i)).toISOString(), build: String(i), status: 'success' });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 200);
    assert.equal(JSON.parse(lines[lines.length - 1]!).build, '249');
  });
});
