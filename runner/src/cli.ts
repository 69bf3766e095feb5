/** Entry of the `dify-ci` runner (bundled into resources/dify-ci/runner.cjs): the process's I/O into main(). */
import { ExitCode } from './core/errors.js';
import { guardProcessOutput } from './core/mask.js';
import { main } from './program.js';

/**
 * Windows agents start node from the temp dir (a workspace file must never be what cmd.exe runs); the runner works
 * in the workspace all the same. A process matter, so it is done here and not inside main().
 */
function enterWorkspace(): boolean {
  const workspace = process.env.DIFY_CI_WORKSPACE;
  if (!workspace) return true;
  try {
    process.chdir(workspace);
    return true;
  } catch (e) {
    process.stderr.write(`error: DIFY_CI_WORKSPACE: cannot enter ${workspace}: ${(e as Error).message}\n`);
    return false;
  }
}

if (!enterWorkspace()) {
  process.exitCode = ExitCode.USAGE;
} else {
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
}
