import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkNames, parseTemplate, renderNodes, TemplateSyntaxError } from '../../runner/src/notify/template.js';
import { escapeHtml } from '../../runner/src/notify/email.js';
import { escapeMrkdwn } from '../../runner/src/notify/slack-blocks.js';
import { loadEmailTemplate, loadSlackTemplate } from '../../runner/src/notify/templates.js';
import { buildView, VOCABULARY } from '../../runner/src/notify/view.js';
import { buildSummary, readResultFiles } from '../../runner/src/notify/summary.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import type { Vocabulary } from '../../runner/src/notify/template.js';
import { failedRunFixture, tempDir, writeResults } from './helpers.js';

const render = (t: string, view: unknown, esc = (s: string) => s) => renderNodes(parseTemplate(t), [view], esc);

describe('notify: template language', () => {
  it('substitutes values, enters sections, repeats lists and honours inverted sections', () => {
    const view = { name: 'bot', n: 0, list: [{ a: 1 }, { a: 2 }], obj: { x: 'X' }, empty: [], yes: true };
    assert.equal(render('{{name}}/{{obj.x}}', view), 'bot/X');
    assert.equal(render('{{#list}}[{{a}}]{{/list}}', view), '[1][2]');
    assert.equal(render('{{#obj}}{{x}}-{{name}}{{/obj}}', view), 'X-bot');
    assert.equal(render('{{#empty}}no{{/empty}}{{^empty}}none{{/empty}}', view), 'none');
    assert.equal(render('{{#n}}zero is false{{/n}}{{^n}}0{{/n}}', view), '0');
    assert.equal(render('{{#yes}}y{{/yes}}{{missing}}', view), 'y');
    assert.equal(render('{{! a comment }}ok', view), 'ok');
  });

  it('never prints an object and escapes every value with the channel escape', () => {
    assert.equal(render('[{{obj}}]', { obj: { a: 1 } }), '[]');
    assert.equal(render('{{v}}', { v: '<a href="x">&</a>' }, escapeHtml), '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
    assert.equal(render('{{v}}', { v: '<!channel> & <https://evil|click>' }, escapeMrkdwn), '&lt;!channel&gt; &amp; &lt;https://evil|click&gt;');
  });

  it('drops the lines of standalone section tags, so text templates keep no blank lines', () => {
    const t = 'a\n{{#list}}\n- {{.}}\n{{/list}}\nb\n';
    assert.equal(render(t, { list: ['x', 'y'] }), 'a\n- x\n- y\nb\n');
    assert.equal(render(t, { list: [] }), 'a\nb\n');
  });

  it('reports syntax errors with their offset', () => {
    const cases: [string, RegExp][] = [
      ['{{#a}}x', /never closed/],
      ['x{{/a}}', /never opened/],
      ['{{#a}}{{/b}}', /closes '\{\{#a\}\}'/],
      ['{{na me}}', /invalid placeholder/],
      ['hello {{name}', /unbalanced/],
    ];
    for (const [t, re] of cases) {
      assert.throws(() => parseTemplate(t), (e: unknown) => e instanceof TemplateSyntaxError && re.test(e.message), t);
    }
    try {
      parseTemplate('ab {{#x}}');
    } catch (e) {
      assert.equal((e as TemplateSyntaxError).offset, 3);
    }
  });

  it('checks names against the vocabulary, inside sections too, with a hint', () => {
    const vocab: Vocabulary = { names: ['title', 'targets'], sections: { targets: { names: ['label'] } } };
    assert.deepEqual(checkNames(parseTemplate('{{title}}{{#targets}}{{label}}{{title}}{{/targets}}'), vocab), []);
    const p = checkNames(parseTemplate('{{titel}}'), vocab);
    assert.equal(p.length, 1);
    assert.match(p[0]!.message, /unknown placeholder 'titel' \(did you mean 'title'\?\)/);
    assert.equal(checkNames(parseTemplate('{{label}}'), vocab).length, 1, 'label only exists inside targets');
  });

  it('the view has exactly the names of the vocabulary (they cannot drift apart)', () => {
    const dir = tempDir();
    writeResults(dir, failedRunFixture());
    const environ = {
      JOB_NAME: 'j', BUILD_NUMBER: '1', BUILD_URL: 'https://ci/job/1/', BUILD_TAG: 't', GIT_COMMIT: 'abc', GIT_BRANCH: 'main',
      CHANGE_ID: '7', CHANGE_URL: 'https://git/pr/7', CHANGE_AUTHOR: 'ann', CHANGE_TITLE: 'x',
    };
    const view = buildView(buildSummary({ status: 'failure', previousStatus: 'success', results: readResultFiles(dir), environ, env: 'production', reportUrl: () => 'https://ci/r' }));
    assert.deepEqual(Object.keys(view).sort(), [...VOCABULARY.names].sort());
    const sectionKeys = (k: string) => Object.keys((Array.isArray(view[k]) ? (view[k] as object[])[0] : view[k]) as object).sort();
    for (const [k, v] of Object.entries(VOCABULARY.sections!)) {
      if (view[k] === undefined || (Array.isArray(view[k]) && (view[k] as unknown[]).length === 0)) continue;
      for (const key of sectionKeys(k)) assert.ok(v.names.includes(key), `${k}.${key} is not in the vocabulary`);
    }
  });
});

describe('notify: template files', () => {
  it('the built-in templates load and pass the name check', () => {
    const s = loadSlackTemplate(undefined, '/');
    assert.ok(s.message.blocks.length > 5 && s.thread);
    const e = loadEmailTemplate(undefined, '/');
    assert.match(e.subject, /\[dify-ci\]/);
  });

  it('an org Slack template with a typo fails with file:line:column and a hint', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'slack.yml'),
      ['text: "{{title}}"', 'blocks:', '  - type: section', '    text: {type: mrkdwn, text: "Env {{enviroment}}"}', ''].join('\n'),
    );
    assert.throws(
      () => loadSlackTemplate('slack.yml', dir),
      (e: unknown) => {
        assert.ok(e instanceof DifyCiError);
        assert.equal(e.category, 'config');
        assert.match(e.message, /unknown placeholder 'enviroment'/);
        assert.equal(e.position?.line, 4);
        assert.equal(e.position?.column, 37, 'points at the placeholder inside the quoted string');
        return true;
      },
    );
  });

  it('an org Slack template: each/if names are checked, unknown top-level keys rejected', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yml'), 'blocks:\n  - each: targetz\n    type: section\n    text: {type: mrkdwn, text: "{{label}}"}\n');
    assert.throws(() => loadSlackTemplate('a.yml', dir), /'each: targetz' names nothing \(did you mean 'targets'\?\)/);
    writeFileSync(join(dir, 'b.yml'), 'blocks:\n  - each: targets\n    type: section\n    text: {type: mrkdwn, text: "{{label}} {{version}}"}\n');
    assert.doesNotThrow(() => loadSlackTemplate('b.yml', dir));
    writeFileSync(join(dir, 'c.yml'), 'blocks: []\nthraed: {blocks: []}\n');
    assert.throws(() => loadSlackTemplate('c.yml', dir), /unknown key 'thraed' \(did you mean 'thread'\?\)/);
  });

  it('an org email template overrides only the keys it has; an .html file is the HTML body', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mail.yml'), 'subject: "[ops] {{title}}"\n');
    const t = loadEmailTemplate('mail.yml', dir);
    assert.equal(t.subject, '[ops] {{title}}');
    assert.match(t.html, /<!doctype html>/);
    writeFileSync(join(dir, 'body.html'), '<p>{{title}}</p>\n<p>{{nope}}</p>\n');
    assert.throws(
      () => loadEmailTemplate('body.html', dir),
      (e: unknown) => e instanceof DifyCiError && e.position?.line === 2 && e.position?.column === 4 && /unknown placeholder 'nope'/.test(e.message),
    );
  });
});
