/** Entry of the `dify-ci` runner (bundled into resources/dify-ci/runner.cjs): the process's I/O into main(). */
import { ExitCode } from './core/errors.js';
import { guardProcessOutput } from './core/mask.js';
import { main } from './program.js';

const io = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
main(process.argv.slice(2), io, { started: guardProcessOutput }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    // main reports every error itself; this is a bug in main, shown without masking help from the run.
    process.stderr.write(`error: ${String(err)}\n`);
    process.exitCode = ExitCode.FAILED;
  },
);
