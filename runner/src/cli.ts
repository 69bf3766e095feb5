/** Entry of the `dify-ci` runner (bundled into resources/dify-ci/runner.cjs). */
import { log } from './core/log.js';
import { ExitCode } from './core/errors.js';
import { main } from './program.js';

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    log.error(String(err));
    process.exitCode = ExitCode.FAILED;
  },
);
