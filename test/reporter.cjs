/**
 * Mocha reporter: the spec reporter on the console, JUnit XML (mocha's own xunit reporter) in
 * .dify-ci/test-results/mocha.xml for Jenkins, and a closing line `mocha: N passed, N failed, N skipped` that CI
 * systems can read.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Mocha = require('mocha');

class DifyCiReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const out = process.env.MOCHA_JUNIT_FILE || path.join('.dify-ci', 'test-results', 'mocha.xml');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    new Mocha.reporters.XUnit(runner, { reporterOptions: { output: out, suiteName: 'dify-ci' } });
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const s = this.stats;
      process.stdout.write(`\nmocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}
module.exports = DifyCiReporter;
