import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic

// The one executor behind every dify* step (internal). Groovy only moves values around: the runner decides
// everything, and values reach the shell through environment variables and a JSON file, never the script text.
//
//   difyRun(command, params = [:], options = [:])  ->  the result file as a map, plus exitCode and message
//   options.okExitCodes: exit codes that are not failures (default [0]; difyPlan adds 3 for "changes")
//   options.propagate:   false = return the failure instead of calling error() (difySmoke decides itself)
def call(String command, Map params = [:], Map options = [:]) {
    String tmp = tmpDir()
    String runner = materialise(tmp)
    List creds = contextIn(tmp, runner, command, params.env, params.config).credentials ?: []
    List bindings = []
    for (int i = 0; i < creds.size(); i++) {
        Map c = creds[i]
        if (c.type == 'usernamePassword') {
            bindings << usernamePassword(credentialsId: c.credentialsId, usernameVariable: c.variables[0], passwordVariable: c.variables[1])
        } else if (c.type == 'file') {
            bindings << file(credentialsId: c.credentialsId, variable: c.variables[0])
        } else {
            bindings << string(credentialsId: c.credentialsId, variable: c.variables[0])
        }
    }
    String id = callId()
    String wave = params.wave ? "wave${params.wave}" : null // each wave's deploy keeps its own result file (rollback reads them all)
    // The call id too: two calls of one command never share a file, even from parallel branches.
    String resultFile = ".dify-ci/results/${safeName([command, params.env, wave, params.shard, 'c' + id])}.json"
    Map result = null
    withCredentials(bindings) {
        result = exec(tmp, runner, command, params, resultFile, "dify-ci ${command}${params.env ? ' ' + params.env : ''}", id)
    }
    String artifacts = artifactPaths(result, null)
    archiveArtifacts(artifacts: artifacts ? "${resultFile},${artifacts}" : resultFile, allowEmptyArchive: true)
    String backups = artifactPaths(result, 'backup')
    if (backups && env.DIFY_CI_KEEP) { // difyPipeline's node stashes them for a rollback on another agent
        writeFile(file: env.DIFY_CI_KEEP, text: readFile(file: env.DIFY_CI_KEEP, encoding: 'UTF-8') + backups + ',', encoding: 'UTF-8')
    }
    List ok = options.okExitCodes ?: [0]
    if (!ok.contains(result.exitCode) && options.propagate != false) {
        error(result.message)
    }
    return result
}

// `dify-ci context`: the credentials to bind and what the pipeline decides on. Returns the result's `data`.
// extra: further context parameters (difyPipeline: overrides, branch, tag - the runner resolves them).
Map context(String step, String envName = null, String config = null, Map extra = [:]) {
    String tmp = tmpDir()
    return contextIn(tmp, materialise(tmp), step, envName, config, extra)
}

// A pull request build is untrusted: the runner reads dify-ci.yml and tenant files only from readTrusted copies and
// asks for each one it needs (`needsTrusted`). readTrusted fails when an outsider's PR changed the file.
Map contextIn(String tmp, String runner, String step, String envName, String config, Map extra = [:]) {
    Map params = [step: step, env: envName, config: config] + (extra ?: [:])
    for (int round = 0; round < 8; round++) {
        Map result = exec(tmp, runner, 'context', params, null, "dify-ci context ${step}${envName ? ' ' + envName : ''}", callId())
        if (result.exitCode != 0) {
            error(result.message)
        }
        List needed = result.data?.needsTrusted ?: []
        if (!needed) {
            return result.data
        }
        if (round == 0) {
            dir(trustedRoot(tmp)) {
                deleteDir() // copies of an earlier build may be older than the target branch now
            }
        }
        for (int i = 0; i < needed.size(); i++) {
            writeFile(file: "${trustedDir(tmp)}/${needed[i]}", text: readTrusted(needed[i] as String), encoding: 'UTF-8')
        }
    }
    error("dify-ci context: the runner kept asking for readTrusted files (${params})")
}

// Comma-separated workspace-relative paths of the result's artifacts (of one kind, or all), for archiveArtifacts/junit.
String artifactPaths(Map result, String kind) {
    List paths = []
    List artifacts = result?.artifacts ?: []
    for (int i = 0; i < artifacts.size(); i++) {
        String p = (artifacts[i].path as String).replace('\\', '/')
        // archiveArtifacts only sees the workspace: skip absolute paths, "./" prefixes match nothing.
        if ((kind == null || artifacts[i].kind == kind) && !p.startsWith('/') && !(p ==~ /^[A-Za-z]:.*/) && !p.startsWith('..')) {
            paths << (p.startsWith('./') ? p.substring(2) : p)
        }
    }
    return paths.join(',')
}

// One runner invocation: params by file, names by environment variables, a constant script, the result by file
// (in the workspace, or in the temp dir when resultFile is null).
Map exec(String tmp, String runner, String command, Map params, String workspaceResult, String label, String id) {
    String paramsFile = "${tmp}/params-${id}.json"
    String resultFile = workspaceResult ?: "${tmp}/${command}-${id}.json"
    writeFile(file: paramsFile, text: JsonOutput.toJson(params), encoding: 'UTF-8')
    writeFile(file: resultFile, text: '', encoding: 'UTF-8') // a stale result must not pass for this run's
    List vars = ["DIFY_CI_RUNNER=${runner}", "DIFY_CI_COMMAND=${command}", "DIFY_CI_PARAMS_FILE=${paramsFile}", "DIFY_CI_RESULT_FILE=${resultFile}"]
    if (env.CHANGE_ID) {
        vars << "DIFY_CI_TRUSTED_DIR=${trustedDir(tmp)}"
    }
    boolean unix = isUnix()
    int status = 0
    if (unix) {
        String script = 'node "$DIFY_CI_RUNNER" "$DIFY_CI_COMMAND" --result-file "$DIFY_CI_RESULT_FILE"'
        if (command == 'context') {
            script += ' >/dev/null' // its JSON is for us (the result file), not for the build log
        }
        withEnv(vars) {
            status = sh(label: label, script: script, returnStatus: true)
        }
    } else {
        String script = '@for %%i in (node.exe) do @if "%%~$PATH:i"=="" (echo dify-ci: node.exe is not on PATH 1>&2 & exit /b 9) else "%%~$PATH:i" "%DIFY_CI_RUNNER%" "%DIFY_CI_COMMAND%" --result-file "%DIFY_CI_RESULT_FILE%"'
        if (command == 'context') {
            script += ' >NUL'
        }
        status = windows(tmp, vars) {
            bat(label: label, script: script, returnStatus: true)
        }
    }
    String text = readFile(file: resultFile, encoding: 'UTF-8')
    Map result = text.trim() ? new JsonSlurperClassic().parseText(text) : [command: command, status: 'error', artifacts: [], data: null, error: null]
    result.exitCode = status
    if (result.error?.message) {
        result.message = "dify-ci ${command}: ${result.error.message} [${result.error.category}]".toString()
    } else if (text.trim()) {
        result.message = "dify-ci ${command}: ${result.summary} [${status == 1 ? 'operation' : 'exit ' + status}]".toString()
    } else {
        result.message = "dify-ci ${command}: the runner exited with ${status} and wrote no result file (see the log above)".toString()
    }
    return result
}

// cmd.exe runs a program from the current directory before PATH: a pull request's node.cmd in the workspace would
// run inside withCredentials. So node is found on PATH only (%~$PATH:i) and called by its absolute path, cmd does not
// look in the current directory (NoDefaultCurrentDirectoryInExePath), and that directory is the temp dir, not the
// workspace; the runner moves to the workspace itself (DIFY_CI_WORKSPACE).
def windows(String tmp, List vars, Closure body) {
    List all = vars + ['NoDefaultCurrentDirectoryInExePath=1', "DIFY_CI_WORKSPACE=${pwd()}"]
    def out = null
    dir(tmp) {
        withEnv(all) {
            out = body()
        }
    }
    return out
}

// Writes the bundled runner once per workspace, named after its content so a library update is picked up. Written
// under this call's own name, then moved into place by node (atomic), so a parallel branch never runs half a file.
String materialise(String tmp) {
    String path = "${tmp}/runner-${digest(libraryResource('dify-ci/runner.cjs'))}.cjs"
    if (!fileExists(path)) {
        String part = "${path}.${callId()}.part"
        writeFile(file: part, text: libraryResource('dify-ci/runner.cjs'), encoding: 'UTF-8')
        List vars = ["DIFY_CI_RUNNER=${path}", "DIFY_CI_RUNNER_PART=${part}"]
        String check = 'node -e "var v=process.versions.node; if (+v.split(\'.\')[0] < 20) { console.error(\'dify-ci needs Node.js >= 20, this agent has \' + v); process.exit(3) } require(\'fs\').renameSync(process.env.DIFY_CI_RUNNER_PART, process.env.DIFY_CI_RUNNER)"'
        int status = 0
        if (isUnix()) {
            withEnv(vars) {
                status = sh(label: 'dify-ci: node --version', script: check, returnStatus: true)
            }
        } else {
            String winCheck = '@for %%i in (node.exe) do @if "%%~$PATH:i"=="" (echo dify-ci: node.exe is not on PATH 1>&2 & exit /b 9) else "%%~$PATH:i" -e "var v=process.versions.node; if (+v.split(\'.\')[0] < 20) { console.error(\'dify-ci needs Node.js >= 20, this agent has \' + v); process.exit(3) } require(\'fs\').renameSync(process.env.DIFY_CI_RUNNER_PART, process.env.DIFY_CI_RUNNER)"'
            status = windows(tmp, vars) {
                bat(label: 'dify-ci: node --version', script: winCheck, returnStatus: true)
            }
        }
        if (status != 0) {
            error("dify-ci needs Node.js >= 20 on the agent (the check exited ${status}): install it, or name a NodeJS tool in pipeline.nodejsTool of dify-ci.yml")
        }
    }
    return path
}

// Length and String.hashCode: no Java API a sandbox would ask an administrator to approve.
String digest(String text) {
    String hash = "${text.hashCode()}".replace('-', 'm')
    return "${text.length()}-${hash}"
}

String tmpDir() {
    return "${pwd(tmp: true)}/dify-ci"
}

String trustedRoot(String tmp) {
    return "${tmp}/trusted"
}

// Per build: readTrusted answers from one revision for the whole build, but the next build may see a newer one.
String trustedDir(String tmp) {
    return "${trustedRoot(tmp)}/${env.BUILD_NUMBER ?: '0'}"
}

// Unique within a build (CPS runs one branch at a time between steps, so parallel branches get distinct ids);
// reused by the next build in the same workspace, which keeps the temp dir bounded.
String callId() {
    int n = ((env.DIFY_CI_CALLS ?: '0') as int) + 1
    env.DIFY_CI_CALLS = "${n}"
    return "${n}"
}

String safeName(List parts) {
    List kept = []
    for (int i = 0; i < parts.size(); i++) {
        if (parts[i]) {
            kept << (parts[i] as String).replaceAll('[^A-Za-z0-9._-]', '_')
        }
    }
    return kept.join('-')
}
